// Drives one TX descriptor of a VF to prove that a DMA window of the client really backs
// device DMA: the descriptor ring and the frame live in the client's memfd, the device
// reads them through the map the client registered with DMA_MAP, and the frame comes out
// of the uplink. Registers are driven on the hardware model directly (setup, not under
// test); the VF reset handshake with the PF enables the VF's TX (igbvf-vf.md 3.4).
import type { NativeNic } from '../../../mediator/native/addon.js';
import type { PfDriver } from '../../../mediator/pf/pf-driver.js';
import { VfMailbox } from '../../pf/pf-rig.js';

const TDBAL = 0x3800, TDBAH = 0x3804, TDLEN = 0x3808, TDH = 0x3810, TDT = 0x3818, TXDCTL = 0x3828, TQERR = 0x3834;
const XDCTL_ENABLE = 0x02000000;
const DTYP_DATA = 0x00300000, DCMD_EOP = 0x01000000, DCMD_IFCS = 0x02000000, DCMD_RS = 0x08000000, DCMD_DEXT = 0x20000000;
const RING_DESCS = 8;

export function vfResetHandshake(nic: NativeNic, pf: PfDriver, vf: number): void {
  const reply = new VfMailbox(nic, vf, pf).resetHandshake();
  if ((reply[0]! & 0xff) !== 0x01 || !(reply[0]! & 0x80000000)) throw new Error(`VF_RESET not acked: ${reply[0]!.toString(16)}`);
}

/** Programs TX queue 0 with its ring at ringIova (ring memory = mem at ringOff). */
export function programTx(nic: NativeNic, vf: number, mem: DataView, ringOff: number, ringIova: bigint): void {
  for (let i = 0; i < RING_DESCS * 16; i += 4) mem.setUint32(ringOff + i, 0, true);
  nic.vfWrite32(vf, TXDCTL, 0);
  nic.vfWrite32(vf, TDBAL, Number(ringIova & 0xffffffffn));
  nic.vfWrite32(vf, TDBAH, Number(ringIova >> 32n));
  nic.vfWrite32(vf, TDLEN, RING_DESCS * 16);
  nic.vfWrite32(vf, TDH, 0);
  nic.vfWrite32(vf, TDT, 0);
  nic.vfWrite32(vf, TXDCTL, XDCTL_ENABLE | (1 << 16));
}

/** Writes descriptor `slot` for a frame at bufIova and rings the doorbell (TDT = slot+1). */
export function postTx(nic: NativeNic, vf: number, mem: DataView, ringOff: number, slot: number, bufIova: bigint, len: number): void {
  const d = ringOff + slot * 16;
  mem.setBigUint64(d, bufIova, true);
  mem.setUint32(d + 8, (len | DTYP_DATA | DCMD_DEXT | DCMD_IFCS | DCMD_EOP | DCMD_RS) >>> 0, true);
  mem.setUint32(d + 12, len << 14, true);
  nic.vfWrite32(vf, TDT, (slot + 1) % RING_DESCS);
}

export function txDone(mem: DataView, ringOff: number, slot: number): boolean {
  return (mem.getUint32(ringOff + slot * 16 + 12, true) & 1) === 1;
}

export function txQueueError(nic: NativeNic, vf: number): number {
  return nic.vfRead32(vf, TQERR);
}

/** A 60-byte frame to a MAC no VF owns (so it goes to the uplink). */
export function testFrame(src: Uint8Array, seq: number): Buffer {
  const f = Buffer.alloc(60);
  Buffer.from([0x02, 0x00, 0x5e, 0x10, 0x20, 0x30]).copy(f, 0);
  Buffer.from(src).copy(f, 6);
  f.writeUInt16BE(0x88b5, 12);
  f.writeUInt32BE(seq, 14);
  return f;
}
