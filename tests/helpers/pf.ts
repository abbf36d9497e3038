/**
 * The PF driver as the hardware tests use it. Tests talk to this small interface; the
 * adapter below maps it onto the real koffi binding of libvfpf (mediator/pf/), so a rename
 * in the binding is fixed here and not in every test.
 */
import type { NativeNic } from '../../mediator/native/addon.js';

export interface PfVfConfig {
  mac: Uint8Array;
  enable: number;
  maxFrame: number;
  mcCount: number;
  vlanCount: number;
  promisc: number;
  quiesced: boolean;
}

export interface PfVfStats {
  rxPackets: bigint; rxBytes: bigint; txPackets: bigint; txBytes: bigint;
  rxMcast: bigint; rxLbPackets: bigint; txLbPackets: bigint; rxLbBytes: bigint; txLbBytes: bigint;
  rxFifoDrops: bigint; rxNoDesc: bigint; dmaErrors: bigint; txErrors: bigint;
  fifoFrames: bigint; fifoBytes: bigint;
}

export interface PfApi {
  /** Handles pending mailbox/reset events; returns the number handled. */
  service(): number;
  sriovEnable(numVfs: number): number;
  vfSetMac(vf: number, mac: Uint8Array): void;
  vfGetConfig(vf: number): PfVfConfig;
  vfStats(vf: number): PfVfStats;
  vfQuiesce(vf: number): void;
  vfResume(vf: number): void;
  vfStateSize(vf: number): number;
  vfSave(vf: number): Buffer;
  vfLoad(vf: number, blob: Uint8Array): void;
  /** Raw admin command (bypasses the driver's own checks). */
  adminCmd(opcode: number, vf: number, param0: number, param1: number, buf?: Uint8Array): number;
  close(): void;
}

export function openPf(_nic: NativeNic): PfApi {
  throw new Error('PF binding (mediator/pf) not merged yet');
}
