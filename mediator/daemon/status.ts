/**
 * The daemon's status as one JSON document (`vfmed status --json`, control command
 * `status`): the daemon, the PF, every bound VF (socket, client, link, device counters,
 * queues, what of its BAR reached the server) and the uplink with its backends. All
 * numbers are plain JSON numbers (counters stay exact below 2^53).
 */
import type { NativeNic } from '../native/addon.js';
import type { PfDriver } from '../pf/pf-driver.js';
import { STATUS, STATUS_LU } from '../hw/vf-regs.js';
import type { UplinkStats } from '../wire/uplink-port.js';
import type { AccessCounts } from './access-counter.js';
import type { BoundVf } from './vf-set.js';

export interface QueueStatus {
  enabled: boolean; head: number; tail: number; size: number; error: number;
}

export interface VfStatus {
  vf: number;
  /** the MAC in the VF's filter now (all zeros once a migrated-out VF gave it up) */
  mac: string;
  socket: string;
  client: { pid: number; uid: number; since: string | null } | null;
  attaches: number;
  refused: number;
  /** STATUS.LU as the VF reads it, and whether the PF driver says clear-to-send */
  link: 'up' | 'down';
  clearToSend: boolean;
  rxEnabled: boolean;
  txEnabled: boolean;
  tx: { packets: number; bytes: number; errors: number };
  rx: { packets: number; bytes: number; fifoDrops: number };
  dmaErrors: number;
  fifo: { frames: number; bytes: number; capacity: number };
  queues: Array<{ rx: QueueStatus; tx: QueueStatus }>;
  trapped: AccessCounts;
  /** the VF mediate driver's view of the open (tracker, logging, trap, migration state);
   * null without a client or without the driver */
  mediate: Record<string, unknown> | null;
}

export interface DaemonStatus {
  daemon: { pid: number; version: string; startedAt: string; uptimeS: number; runDir: string; control: string };
  pf: {
    driver: string; maxVfs: number; numVfs: number; linkSpeedMbps: number;
    service: { events: number; handled: number; errors: number };
  };
  vfs: VfStatus[];
  uplink: UplinkStats;
}

const num = (v: bigint): number => Number(v);

function macString(m: Uint8Array): string {
  return [...m].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export function vfStatus(nic: NativeNic, pf: PfDriver, b: BoundVf, mediate: Record<string, unknown> | null = null): VfStatus {
  const i = nic.vfInfo(b.vf);
  let link: 'up' | 'down' = 'down';
  let cts = false;
  try {
    link = (nic.vfRead32(b.vf, STATUS) & STATUS_LU) !== 0 ? 'up' : 'down';
    cts = pf.vfStatus(b.vf).clearToSend;
  } catch { /* a VF being torn down: report it down */ }
  const q = (e: boolean, head: number, tail: number, size: number, error: number): QueueStatus =>
    ({ enabled: e, head, tail, size, error });
  return {
    vf: b.vf,
    mac: macString(i.mac),
    socket: b.socket,
    client: b.client ? { pid: b.client.pid, uid: b.client.uid, since: b.attachedAt } : null,
    attaches: b.attaches,
    refused: b.refused,
    link,
    clearToSend: cts,
    rxEnabled: i.rxEn,
    txEnabled: i.txEn,
    tx: { packets: num(i.txPackets), bytes: num(i.txBytes), errors: num(i.txErrors) },
    rx: { packets: num(i.rxPackets), bytes: num(i.rxBytes), fifoDrops: num(i.fifoDrops) },
    dmaErrors: num(i.dmaErrors),
    fifo: { frames: i.fifoFrames, bytes: i.fifoBytes, capacity: i.fifoCapacity },
    queues: i.queues.map((qq) => ({
      rx: q(qq.rxEnabled, qq.rxHead, qq.rxTail, qq.rxCount, qq.rxError),
      tx: q(qq.txEnabled, qq.txHead, qq.txTail, qq.txCount, qq.txError),
    })),
    trapped: structuredClone(b.counter.counts),
    mediate,
  };
}
