/**
 * A userspace poll-mode driver for one emulated 82576 VF, written the way a real igbvf /
 * DPDK e1000 VF driver drives the hardware (igbvf-vf.md 3.3, 3.4 and 5): the demo's and the
 * hardware tests' "guest".
 *
 *  - BAR0 pages 0-1 (CTRL, mailbox, statistics, interrupts) through the trapped port;
 *    pages 2-3 (queue registers and the RDT/TDT doorbells) through a passthrough port
 *    (plain stores into the shared BAR mapping) or, when the caller says so, trapped too.
 *  - Guest RAM is a GuestMemory (memfd) the caller DMA-mapped into the VF.
 *  - Reset: EIMC/EIAC mask, CTRL.RST, bounded wait for RSTI/RSTD to clear, VF_RESET
 *    handshake (reply 0x80000001 + MAC), then optional SET_MAC / SET_MULTICAST / SET_VLAN /
 *    SET_LPE. The PF answers through `service()`, which the mailbox calls while it waits.
 *  - TX and RX rings on queue 0 and optionally queue 1 (IgbvfTxRing / IgbvfRxRing).
 *  - Statistics: the VF's 32-bit wrapping counters folded into 64-bit totals, as the
 *    drivers do.
 *  - rebind(): continue on another BAR (after the VF state moved to another device).
 */
import { constants } from 'node:os';
import { VfmedError } from '../errors.js';
import { pollUntil, type PollBudget } from './bounded-wait.js';
import type { GuestMemory } from './guest-memory.js';
import { IgbvfMailbox, MBX_DEFAULT_BUDGET } from './igbvf-mailbox.js';
import { IgbvfRxRing, type RxFrame } from './igbvf-rx-ring.js';
import { IgbvfTxRing, type RawTxDesc } from './igbvf-tx-ring.js';
import type { RegPort } from './vf-reg-port.js';
import * as R from './vf-regs.js';

export type { RxFrame } from './igbvf-rx-ring.js';
export type { RawTxDesc } from './igbvf-tx-ring.js';

export interface IgbvfPmdOptions {
  /** Pages 0-1: the trapped path (nic.vfRead32/vfWrite32). */
  misc: RegPort;
  /** Pages 2-3: passthrough mapping of the VF BAR, or the trapped port. */
  queues: RegPort;
  mem: GuestMemory;
  /** Runs while the driver waits on the mailbox or on reset (the PF driver's service). */
  service?: () => void;
  txQueues?: number[];   // default [0]
  rxQueues?: number[];   // default [0]
  txRingSize?: number;   // default 256
  rxRingSize?: number;   // default 256
  rxBufSize?: number;    // default 2048, multiple of 1024
  txBufSize?: number;    // default 2048; larger frames use several descriptors
  rxBatch?: number;      // RDT update threshold, default 32 (clamped below the ring size)
  txHeadWriteBack?: boolean;
  rxDropEn?: boolean;
  rxInitialPosted?: number;
  mbxBudget?: PollBudget;
  /** Budget of the RSTI/RSTD wait after CTRL.RST (igbvf: 200 x 5 us; we allow more). */
  resetBudget?: PollBudget;
}

export interface InitOptions {
  /** Send SET_MAC_ADDR with this address after the reset handshake. */
  mac?: Uint8Array;
  /** SET_MULTICAST with these addresses (<= 30). */
  multicast?: Uint8Array[];
  /** SET_VLAN (add) for each VID. */
  vlans?: number[];
  /** SET_LPE with this maximum frame size. */
  maxFrame?: number;
}

export interface VfStats {
  gprc: bigint; gptc: bigint; gorc: bigint; gotc: bigint; mprc: bigint;
  gprlbc: bigint; gptlbc: bigint; gorlbc: bigint; gotlbc: bigint;
  dmaErr: bigint; fifoDrop: bigint;
}

const STAT_REGS: ReadonlyArray<[keyof VfStats, number]> = [
  ['gprc', R.VFGPRC], ['gptc', R.VFGPTC], ['gorc', R.VFGORC], ['gotc', R.VFGOTC],
  ['mprc', R.VFMPRC], ['gprlbc', R.VFGPRLBC], ['gptlbc', R.VFGPTLBC], ['gorlbc', R.VFGORLBC],
  ['gotlbc', R.VFGOTLBC], ['dmaErr', R.VFDMAERR], ['fifoDrop', R.VFFIFODROP],
];

/** MAC bytes 0-3 in word 1 (little-endian), 4-5 in the low half of word 2 (3.2). */
export function macToWords(mac: Uint8Array): [number, number] {
  if (mac.length !== 6) throw new RangeError('a MAC address has 6 bytes');
  return [
    (mac[0]! | (mac[1]! << 8) | (mac[2]! << 16) | (mac[3]! << 24)) >>> 0,
    (mac[4]! | (mac[5]! << 8)) >>> 0,
  ];
}

export function wordsToMac(w1: number, w2: number): Uint8Array {
  return Uint8Array.of(w1 & 0xff, (w1 >>> 8) & 0xff, (w1 >>> 16) & 0xff, w1 >>> 24, w2 & 0xff, (w2 >>> 8) & 0xff);
}

/** The 12-bit multicast hash igbvf sends in SET_MULTICAST. */
export function mcHash(mac: Uint8Array): number {
  return ((mac[4]! >> 4) | (mac[5]! << 4)) & 0xfff;
}

export class IgbvfPmd {
  private misc: RegPort;
  private queuesPort: RegPort;
  readonly mem: GuestMemory;
  readonly mbx: IgbvfMailbox;
  readonly txRings: IgbvfTxRing[];
  readonly rxRings: IgbvfRxRing[];
  private readonly resetBudget: PollBudget;
  private service: (() => void) | undefined;
  private readonly statLast = new Map<keyof VfStats, number>();
  private readonly statTotal = new Map<keyof VfStats, bigint>();
  /** The MAC the PF assigned in the VF_RESET reply, and the one in use. */
  permanentMac: Uint8Array | null = null;
  mac: Uint8Array | null = null;

  constructor(opts: IgbvfPmdOptions) {
    this.misc = opts.misc;
    this.queuesPort = opts.queues;
    this.mem = opts.mem;
    this.service = opts.service;
    this.resetBudget = opts.resetBudget ?? { tries: 2000, delayUs: 50 };
    this.mbx = new IgbvfMailbox(opts.misc, opts.mbxBudget ?? MBX_DEFAULT_BUDGET, opts.service);
    const txq = opts.txQueues ?? [0];
    const rxq = opts.rxQueues ?? [0];
    for (const q of [...txq, ...rxq]) {
      if (q !== 0 && q !== 1) throw new RangeError(`queue ${q}: the 82576 VF has queues 0 and 1`);
    }
    if (new Set(txq).size !== txq.length || new Set(rxq).size !== rxq.length) {
      throw new RangeError('a queue is listed twice');
    }
    const rxSize = opts.rxRingSize ?? 256;
    this.txRings = txq.map((queue) => new IgbvfTxRing(opts.mem, {
      queue, size: opts.txRingSize ?? 256, bufSize: opts.txBufSize ?? 2048,
      headWriteBack: opts.txHeadWriteBack ?? false,
    }));
    this.rxRings = rxq.map((queue) => {
      const ro: ConstructorParameters<typeof IgbvfRxRing>[1] = {
        queue, size: rxSize, bufSize: opts.rxBufSize ?? 2048,
        batch: Math.min(opts.rxBatch ?? 32, rxSize - 1), dropEn: opts.rxDropEn ?? false,
      };
      if (opts.rxInitialPosted !== undefined) ro.initialPosted = opts.rxInitialPosted;
      return new IgbvfRxRing(opts.mem, ro);
    });
    for (const [k] of STAT_REGS) this.statTotal.set(k, 0n);
  }

  /** The queue-page port in use (passthrough or trapped). */
  get queuePort(): RegPort {
    return this.queuesPort;
  }

  /** The misc (pages 0-1) port in use. */
  get miscPort(): RegPort {
    return this.misc;
  }

  /** Full bring-up: reset handshake, optional filters, rings, SET_LPE. */
  init(opts: InitOptions = {}): void {
    this.reset();
    if (opts.mac) this.setMac(opts.mac);
    if (opts.multicast) this.setMulticast(opts.multicast);
    for (const vid of opts.vlans ?? []) this.setVlan(vid, true);
    for (const t of this.txRings) t.program(this.queuesPort);
    for (const r of this.rxRings) r.program(this.queuesPort);
    if (opts.maxFrame !== undefined) this.setLpe(opts.maxFrame);
    this.sampleStats(true);
  }

  /**
   * igbvf e1000_reset_hw_vf: mask interrupts, CTRL.RST, wait (bounded) while RSTI/RSTD is
   * seen, then the VF_RESET handshake. Returns the MAC the PF assigned.
   */
  reset(): Uint8Array {
    this.misc.write32(R.EIMC, 0xffffffff);
    this.misc.write32(R.EIAC, 0);
    const ctrl = this.misc.read32(R.CTRL);
    this.misc.write32(R.CTRL, (ctrl | R.CTRL_RST) >>> 0);
    this.mbx.resetState();
    try {
      pollUntil(
        () => !this.mbx.checkBit(R.V2PMAILBOX_RSTI | R.V2PMAILBOX_RSTD),
        'RSTI/RSTD to clear after CTRL.RST (is the PF driver up, PFRSTD set?)',
        this.resetBudget, this.service, 'VFMED_ERR_VF_RESET',
      );
    } catch (e) {
      throw new VfmedError('VFMED_ERR_VF_RESET', `VF reset: PF still in reset state: ${(e as Error).message}`,
        constants.errno.ETIMEDOUT);
    }
    const reply = this.mbx.transact([R.VF_RESET], 3);
    const w0 = reply[0]! >>> 0;
    if (w0 !== ((R.MSG_ACK | R.VF_RESET) >>> 0)) {
      throw new VfmedError('VFMED_ERR_VF_RESET',
        `VF_RESET reply word 0 is 0x${w0.toString(16)}, expected 0x80000001 (ACK with a MAC)`,
        constants.errno.EPROTO);
    }
    this.permanentMac = wordsToMac(reply[1]!, reply[2]!);
    this.mac = this.permanentMac;
    return this.permanentMac;
  }

  /** Sends a request and reads the 1-word reply; true on ACK, false on NACK. */
  private request(msg: number[], what: string): boolean {
    const reply = this.mbx.transact(msg, 1);
    const w0 = (reply[0]! & ~R.MSG_CTS) >>> 0;
    const id = msg[0]! & 0xffff;
    if ((w0 & 0xffff) !== id) {
      throw new VfmedError('VFMED_ERR_MBX_PROTO',
        `${what}: reply 0x${reply[0]!.toString(16)} does not answer message 0x${id.toString(16)}`,
        constants.errno.EPROTO);
    }
    if (w0 & R.MSG_ACK) return true;
    if (w0 & R.MSG_NACK) return false;
    throw new VfmedError('VFMED_ERR_MBX_PROTO', `${what}: reply 0x${reply[0]!.toString(16)} is neither ACK nor NACK`,
      constants.errno.EPROTO);
  }

  /** SET_MAC_ADDR. A NACK keeps the permanent address (igbvf); returns whether it took. */
  setMac(mac: Uint8Array): boolean {
    const [w1, w2] = macToWords(mac);
    const ok = this.request([R.VF_SET_MAC_ADDR, w1, w2], 'SET_MAC_ADDR');
    if (ok) this.mac = Uint8Array.from(mac);
    return ok;
  }

  /** SET_MULTICAST with up to 30 hashes, packed two per word, all 16 words written. */
  setMulticast(macs: Uint8Array[]): boolean {
    if (macs.length > 30) throw new RangeError('SET_MULTICAST takes at most 30 addresses');
    const msg = new Array<number>(16).fill(0);
    msg[0] = (R.VF_SET_MULTICAST | (macs.length << R.MSGINFO_SHIFT)) >>> 0;
    macs.forEach((m, i) => {
      const w = 1 + (i >> 1);
      msg[w] = (msg[w]! | (mcHash(m) << (16 * (i & 1)))) >>> 0;
    });
    return this.request(msg, 'SET_MULTICAST');
  }

  /** SET_VLAN add/remove; returns false on NACK. */
  setVlan(vid: number, add: boolean): boolean {
    if (!Number.isInteger(vid) || vid < 0 || vid > 4095) throw new RangeError(`VLAN id ${vid}`);
    return this.request([(R.VF_SET_VLAN | ((add ? 1 : 0) << R.MSGINFO_SHIFT)) >>> 0, vid], 'SET_VLAN');
  }

  /** SET_LPE (maximum frame size). */
  setLpe(maxFrame: number): boolean {
    if (!Number.isInteger(maxFrame) || maxFrame < 64 || maxFrame > 0x3fff) {
      throw new RangeError(`max frame ${maxFrame}`);
    }
    return this.request([R.VF_SET_LPE, maxFrame], 'SET_LPE');
  }

  /** Link as igbvf sees it: STATUS.LU plus CTS in the PF's last message (3.5). */
  linkUp(): boolean {
    if ((this.misc.read32(R.STATUS) & R.STATUS_LU) === 0) return false;
    const [w0] = this.mbx.read(1);
    return (w0! & R.MSG_CTS) !== 0;
  }

  txRing(queue = 0): IgbvfTxRing {
    const t = this.txRings.find((r) => r.queue === queue);
    if (!t) throw new RangeError(`TX queue ${queue} is not configured`);
    return t;
  }

  rxRing(queue = 0): IgbvfRxRing {
    const r = this.rxRings.find((x) => x.queue === queue);
    if (!r) throw new RangeError(`RX queue ${queue} is not configured`);
    return r;
  }

  /**
   * Queues frames on a TX queue and rings the doorbell. Reclaims first when the ring is
   * short of slots. Returns how many frames were queued (fewer when the ring is full).
   * `segmentSize` forces multi-descriptor frames; `holdBack` leaves that many of the last
   * written descriptors un-doorbelled (see txFlush).
   */
  tx(frames: Uint8Array[], opts: { queue?: number; segmentSize?: number; holdBack?: number } = {}): number {
    const t = this.txRing(opts.queue ?? 0);
    let n = 0;
    for (const f of frames) {
      if (!t.enqueue(f, opts.segmentSize)) {
        t.reclaim();
        if (!t.enqueue(f, opts.segmentSize)) break;
      }
      n++;
    }
    t.ringDoorbell(this.queuesPort, opts.holdBack ?? 0);
    return n;
  }

  /** Fault injection: raw descriptors on a TX queue, then the doorbell. */
  txRaw(descs: RawTxDesc[], queue = 0): boolean {
    const t = this.txRing(queue);
    if (!t.enqueueRaw(descs)) return false;
    t.ringDoorbell(this.queuesPort);
    return true;
  }

  /** Rings the TX doorbell for every written descriptor (after tx(..., {holdBack})). */
  txFlush(queue = 0): void {
    this.txRing(queue).ringDoorbell(this.queuesPort);
  }

  /** Reclaims completed TX descriptors on every TX queue; returns descriptors freed. */
  txReclaim(): number {
    return this.txRings.reduce((n, t) => n + t.reclaim(), 0);
  }

  /** Descriptors still outstanding on every TX queue (after a reclaim). */
  txOutstanding(): number {
    this.txReclaim();
    return this.txRings.reduce((n, t) => n + t.outstanding, 0);
  }

  /** Completed frames from every RX queue (or one), at most `max` in total. */
  rx(opts: { queue?: number; max?: number } = {}): RxFrame[] {
    const out: RxFrame[] = [];
    const rings = opts.queue === undefined ? this.rxRings : [this.rxRing(opts.queue)];
    for (const r of rings) r.poll(this.queuesPort, (opts.max ?? Infinity) - out.length, out);
    return out;
  }

  /** Posts every re-armed RX descriptor now (RDT write) instead of waiting for the batch. */
  rxRefill(): void {
    for (const r of this.rxRings) r.refill(this.queuesPort);
  }

  /** Queue error state (vfmed extension registers) and the enable bits, per queue. */
  queueState(queue = 0): { rxErr: number; txErr: number; rxEnabled: boolean; txEnabled: boolean;
    rdh: number; tdh: number } {
    const p = this.queuesPort;
    return {
      rxErr: p.read32(R.RQERR(queue)), txErr: p.read32(R.TQERR(queue)),
      rxEnabled: (p.read32(R.RXDCTL(queue)) & R.XDCTL_ENABLE) !== 0,
      txEnabled: (p.read32(R.TXDCTL(queue)) & R.XDCTL_ENABLE) !== 0,
      rdh: p.read32(R.RDH(queue)), tdh: p.read32(R.TDH(queue)),
    };
  }

  /**
   * Folds the 32-bit wrapping statistics registers into 64-bit totals (the drivers' way:
   * remember the last value, add the difference mod 2^32). `rebase` only records the
   * current values (after a reset).
   */
  sampleStats(rebase = false): VfStats {
    for (const [k, off] of STAT_REGS) {
      const v = this.misc.read32(off) >>> 0;
      const last = this.statLast.get(k);
      if (!rebase && last !== undefined) {
        this.statTotal.set(k, this.statTotal.get(k)! + BigInt((v - last + 0x100000000) % 0x100000000));
      }
      this.statLast.set(k, v);
    }
    return Object.fromEntries(this.statTotal) as unknown as VfStats;
  }

  /** Raw 32-bit statistics registers as the device shows them now. */
  readStatRegs(): Record<keyof VfStats, number> {
    return Object.fromEntries(STAT_REGS.map(([k, off]) => [k, this.misc.read32(off) >>> 0])) as Record<
      keyof VfStats, number>;
  }

  /**
   * Continues on another BAR: the VF's state was moved (saved on one device, loaded on
   * another) and the same guest RAM is mapped there. Rings and software indices stay as
   * they are; only the ports (and the PF service hook) change.
   */
  rebind(misc: RegPort, queues: RegPort, service?: () => void): void {
    this.misc = misc;
    this.queuesPort = queues;
    if (service) this.service = service;
    this.mbx.rebind(misc, service);
  }

  /** Disables every configured queue (driver stop). */
  stop(): void {
    for (const t of this.txRings) {
      this.queuesPort.write32(R.TXDCTL(t.queue), this.queuesPort.read32(R.TXDCTL(t.queue)) & ~R.XDCTL_ENABLE);
    }
    for (const r of this.rxRings) {
      this.queuesPort.write32(R.RXDCTL(r.queue), this.queuesPort.read32(R.RXDCTL(r.queue)) & ~R.XDCTL_ENABLE);
    }
  }
}
