// Bad DMA input from the driver: descriptors and ring bases outside the DMA maps, buffers
// straddling a map's end, read-only maps used for RX, zero and oversized lengths, bad ring
// lengths, tails beyond the ring, a head write-back target outside the maps. Each must end
// in a queue error the driver can see (RQERR/TQERR + VFDMAERR + XDCTL.ENABLE cleared) or,
// for tails, be ignored; the process survives; and nothing outside the maps is written:
// the guest RAM memfd is larger than what is DMA-mapped and its unmapped tail is filled
// with a canary pattern that must be intact afterwards, and the device's ground-truth log
// shows no write outside the mapped range.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HwRig, vfMac, type Guest } from '../helpers/rig.js';
import { collectN, waitUntil } from '../helpers/wait.js';
import { buildFrame, mac } from '../../mediator/demo/frames.js';
import * as R from '../../mediator/demo/vf-regs.js';

const DMA_LEN = 1 << 20;
const CANARY = 256 << 10;
const DATA_CMD = (R.TXD_DTYP_DATA | R.TXD_DCMD_DEXT | R.TXD_DCMD_IFCS) >>> 0;
const EOP_RS = (R.TXD_DCMD_EOP | R.TXD_DCMD_RS) >>> 0;
const OUTSIDE = mac('02:99:00:00:00:05');

describe('DMA bounds', () => {
  let rig: HwRig;
  let a: Guest; // the misbehaving driver
  let b: Guest; // a well-behaved peer
  let end: bigint; // first IOVA past A's map
  let dmaErrBefore: number;
  let pfDmaErrBefore: bigint;

  beforeEach(() => {
    rig = new HwRig({ maxVfs: 2, numVfs: 2 });
    a = rig.guest(0, { dmaLen: DMA_LEN, canaryLen: CANARY, pmd: { txRingSize: 16, rxRingSize: 16, rxBufSize: 1024, rxBatch: 1, txBufSize: 2048 } });
    b = rig.guest(1, { pmd: { txRingSize: 16, rxRingSize: 16 } });
    a.pmd.init();
    b.pmd.init();
    end = a.mem.iovaBase + BigInt(DMA_LEN);
    dmaErrBefore = a.pmd.readStatRegs().dmaErr;
    pfDmaErrBefore = rig.pfApi.vfStats(0).dmaErrors;
    // The device must have latched both queues (and the driver's RDT = 15 be in the
    // register file) before a case scribbles over the registers.
    waitUntil(() => rig.info(0).queues[0].rxEnabled && rig.info(0).queues[0].txEnabled && rig.info(0).queues[0].rxTail === 15,
      'VF0 queues enabled');
  });

  afterEach(() => {
    try {
      // The invariant of every case: the canaries beyond the map are intact and the
      // device never logged a write outside the map.
      expect(a.canaryDamage()).toBe(-1);
      const truth = rig.nic.truthRead(0, end, BigInt(CANARY), false);
      expect(truth.every((x) => x === 0)).toBe(true);
    } finally {
      rig.close();
    }
  });

  function txFault(): number {
    waitUntil(() => a.pmd.queueState(0).txErr !== 0, 'a TX queue error', {
      detail: () => JSON.stringify(a.pmd.queueState(0)),
    });
    const s = a.pmd.queueState(0);
    expect(s.txEnabled).toBe(false);
    expect(rig.info(0).queues[0].txEnabled).toBe(false);
    expect(a.pmd.readStatRegs().dmaErr - dmaErrBefore).toBe(1);
    expect(rig.pfApi.vfStats(0).dmaErrors - pfDmaErrBefore).toBe(1n);
    return s.txErr;
  }

  function rxFault(): number {
    waitUntil(() => a.pmd.queueState(0).rxErr !== 0, 'an RX queue error', {
      detail: () => JSON.stringify(a.pmd.queueState(0)),
    });
    const s = a.pmd.queueState(0);
    expect(s.rxEnabled).toBe(false);
    expect(a.pmd.readStatRegs().dmaErr - dmaErrBefore).toBe(1);
    expect(rig.pfApi.vfStats(0).dmaErrors - pfDmaErrBefore).toBe(1n);
    return s.rxErr;
  }

  /** After a fault: re-program the queue and prove it works again, both directions. */
  function recovers(): void {
    a.pmd.txRing(0).program(a.pmd.queuePort);
    a.pmd.rxRing(0).program(a.pmd.queuePort);
    // The device notices the re-enable by polling the passthrough page; the error code is
    // cleared when it latches the queue again.
    waitUntil(() => {
      const s = a.pmd.queueState(0);
      return s.txErr === 0 && s.rxErr === 0 && rig.info(0).queues[0].txEnabled && rig.info(0).queues[0].rxEnabled;
    }, 'the queues to be re-latched without error', { detail: () => JSON.stringify(a.pmd.queueState(0)) });
    // Frames a case left waiting (e.g. in the RX FIFO) may arrive first; the probe frame
    // must arrive intact behind them.
    const f = buildFrame({ dst: vfMac(1), src: vfMac(0), stream: 9, seq: 0, len: 500 });
    a.pmd.tx([f]);
    const got: Buffer[] = [];
    waitUntil(() => {
      got.push(...b.pmd.rx().map((x) => x.data));
      return got.some((x) => x.equals(f));
    }, 'a frame from the recovered VF');
    const g = buildFrame({ dst: vfMac(0), src: vfMac(1), stream: 9, seq: 1, len: 1500 });
    b.pmd.tx([g]);
    const back: Buffer[] = [];
    waitUntil(() => {
      back.push(...a.pmd.rx().map((x) => x.data));
      return back.some((x) => x.equals(g));
    }, 'a frame to the recovered VF');
  }

  const txCases: Array<[string, () => { addr: bigint; len: number }, number]> = [
    ['buffer just past the map', () => ({ addr: end, len: 100 }), R.QERR.DESC_ADDR],
    ['buffer straddling the map end', () => ({ addr: end - 50n, len: 100 }), R.QERR.DESC_ADDR],
    ['buffer at IOVA 0 (unmapped)', () => ({ addr: 0n, len: 64 }), R.QERR.DESC_ADDR],
    ['buffer wrapping the 64-bit space', () => ({ addr: 0xffffffffffffffc0n, len: 0x100 }), R.QERR.DESC_ADDR],
    ['zero length', () => ({ addr: a.mem.iovaBase + 0x80000n, len: 0 }), R.QERR.DESC_LEN],
  ];
  for (const [name, mk, code] of txCases) {
    it(`TX descriptor: ${name} -> ${R.qerrName(code)}`, () => {
      const { addr, len } = mk();
      a.pmd.txRaw([{ addr, cmdTypeLen: DATA_CMD | EOP_RS | len, olinfo: (Math.max(len, 1) << R.TXD_PAYLEN_SHIFT) >>> 0 }]);
      expect(txFault()).toBe(code);
      expect(rig.nic.uplinkTake()).toBeNull();
      recovers();
    });
  }

  function oversized(n: number, frag: number): void {
    const buf = a.mem.alloc(n * frag);
    a.pmd.txRaw(Array.from({ length: n }, (_, i) => ({
      addr: buf.iova + BigInt(i * frag), cmdTypeLen: DATA_CMD | frag | (i === n - 1 ? EOP_RS : 0),
      olinfo: ((n * frag) << R.TXD_PAYLEN_SHIFT) >>> 0,
    })));
  }

  it('TX: a frame larger than the largest frame the device moves (9728) -> DESC_LEN, nothing sent', () => {
    oversized(5, 2048); // 10240 bytes
    expect(txFault()).toBe(R.QERR.DESC_LEN);
    expect(rig.nic.uplinkTake()).toBeNull();
    expect(b.pmd.rx()).toEqual([]);
    recovers();
  });

  it('TX: a frame larger than the VF\'s SET_LPE max frame -> DESC_LEN, nothing sent', () => {
    expect(a.pmd.setLpe(1522)).toBe(true);
    oversized(2, 1000); // 2000 bytes
    expect(txFault()).toBe(R.QERR.DESC_LEN);
    expect(rig.nic.uplinkTake()).toBeNull();
    expect(b.pmd.rx()).toEqual([]);
    recovers();
  });

  it('TX: a bad buffer in the middle of a multi-descriptor frame sends nothing', () => {
    const buf = a.mem.alloc(4096);
    a.pmd.txRaw([
      { addr: buf.iova, cmdTypeLen: DATA_CMD | 500, olinfo: (1500 << R.TXD_PAYLEN_SHIFT) >>> 0 },
      { addr: end + 4096n, cmdTypeLen: DATA_CMD | 500, olinfo: (1500 << R.TXD_PAYLEN_SHIFT) >>> 0 },
      { addr: buf.iova + 1000n, cmdTypeLen: DATA_CMD | EOP_RS | 500, olinfo: (1500 << R.TXD_PAYLEN_SHIFT) >>> 0 },
    ]);
    expect(txFault()).toBe(R.QERR.DESC_ADDR);
    expect(rig.nic.uplinkTake()).toBeNull();
    recovers();
  });

  it('TX ring base outside the map -> RING_BASE', () => {
    const p = a.pmd.queuePort;
    p.write32(R.TXDCTL(0), 0);
    p.write32(R.TDBAL(0), Number(end & 0xffffffffn));
    p.write32(R.TDBAH(0), Number(end >> 32n));
    p.write32(R.TDLEN(0), 16 * 16);
    p.write32(R.TDH(0), 0);
    p.write32(R.TDT(0), 0);
    p.write32(R.TXDCTL(0), R.XDCTL_ENABLE);
    p.write32(R.TDT(0), 1);
    expect(txFault()).toBe(R.QERR.RING_BASE);
    recovers();
  });

  it('TX ring straddling the map end -> RING_BASE', () => {
    const p = a.pmd.queuePort;
    const base = end - 128n; // 8 descriptors inside, 8 outside
    p.write32(R.TXDCTL(0), 0);
    p.write32(R.TDBAL(0), Number(base & 0xffffffffn));
    p.write32(R.TDBAH(0), Number(base >> 32n));
    p.write32(R.TDLEN(0), 16 * 16);
    p.write32(R.TDH(0), 0);
    p.write32(R.TDT(0), 0);
    p.write32(R.TXDCTL(0), R.XDCTL_ENABLE);
    p.write32(R.TDT(0), 1);
    expect(txFault()).toBe(R.QERR.RING_BASE);
    recovers();
  });

  for (const [name, len, code] of [['0', 0, R.QERR.RING_LEN], ['not a multiple of 128', 200, R.QERR.RING_LEN]] as const) {
    it(`TX ring length ${name} -> ${R.qerrName(code)}`, () => {
      const p = a.pmd.queuePort;
      p.write32(R.TXDCTL(0), 0);
      p.write32(R.TDLEN(0), len);
      p.write32(R.TXDCTL(0), R.XDCTL_ENABLE);
      expect(txFault()).toBe(code);
      recovers();
    });
  }

  it('TX ring base misaligned -> RING_BASE', () => {
    const p = a.pmd.queuePort;
    const t = a.pmd.txRing(0);
    p.write32(R.TXDCTL(0), 0);
    p.write32(R.TDBAL(0), Number((t.ring.iova + 8n) & 0xffffffffn));
    p.write32(R.TXDCTL(0), R.XDCTL_ENABLE);
    expect(txFault()).toBe(R.QERR.RING_BASE);
    recovers();
  });

  it('head write-back target outside the map -> WRITEBACK', () => {
    const p = a.pmd.queuePort;
    p.write32(R.TDWBAH(0), Number(end >> 32n));
    p.write32(R.TDWBAL(0), Number(end & 0xffffffffn) | R.TDWBAL_ENABLE);
    a.pmd.tx([buildFrame({ dst: vfMac(1), src: vfMac(0), stream: 1, seq: 0, len: 64 })]);
    expect(txFault()).toBe(R.QERR.WRITEBACK);
    p.write32(R.TDWBAL(0), 0);
    // The frame itself went out before its write-back failed.
    expect(collectN(1, () => b.pmd.rx(), 'the frame')).toHaveLength(1);
    recovers();
  });

  it('TX tail beyond the ring is ignored (no DMA, no error), the next valid tail works', () => {
    const p = a.pmd.queuePort;
    const headBefore = a.pmd.queueState(0).tdh;
    // (The register is 16 bits wide: 0x10001 would be the valid tail 1, so it is not here.)
    for (const t of [16, 17, 0xffff]) p.write32(R.TDT(0), t);
    // Make the device process a valid doorbell behind the bad ones, then check the bad
    // ones did nothing: one frame, one descriptor.
    const f = buildFrame({ dst: vfMac(1), src: vfMac(0), stream: 2, seq: 0, len: 80 });
    a.pmd.tx([f]);
    const got = collectN(1, () => b.pmd.rx(), 'the valid frame');
    expect(got).toHaveLength(1);
    expect(got[0]!.data.equals(f)).toBe(true);
    waitUntil(() => a.pmd.queueState(0).tdh === headBefore + 1, 'TDH one past');
    expect(a.pmd.queueState(0).txErr).toBe(0);
    expect(rig.nic.uplinkTake()).toBeNull();
  });

  it('RX descriptor buffer outside the map -> DESC_ADDR; the frame waits and arrives after re-arm', () => {
    const rx = a.pmd.rxRing(0);
    a.mem.view.setBigUint64(rx.ring.offset, end, true); // slot 0's pkt_addr
    const f = buildFrame({ dst: vfMac(0), src: vfMac(1), stream: 3, seq: 0, len: 300 });
    b.pmd.tx([f]);
    expect(rxFault()).toBe(R.QERR.DESC_ADDR);
    expect(rig.info(0).fifoFrames).toBe(1);
    a.pmd.rxRing(0).program(a.pmd.queuePort);
    const got = collectN(1, () => a.pmd.rx(), 'the waiting frame');
    expect(got[0]!.data.equals(f)).toBe(true);
    recovers();
  });

  it('RX: one bad buffer among a frame\'s descriptors faults before any byte is written', () => {
    const rx = a.pmd.rxRing(0);
    // Poison the three buffers and make the third descriptor point outside.
    for (let s = 0; s < 3; s++) a.mem.fillPattern(rx.bufs.offset + s * 1024, 1024, 77);
    a.mem.view.setBigUint64(rx.ring.offset + 2 * 16, end - 512n, true); // straddles the end
    b.pmd.tx([buildFrame({ dst: vfMac(0), src: vfMac(1), stream: 4, seq: 0, len: 3000 })]);
    expect(rxFault()).toBe(R.QERR.DESC_ADDR);
    for (let s = 0; s < 3; s++) {
      expect(a.mem.checkPattern(rx.bufs.offset + s * 1024, 1024, 77)).toBe(-1);
      const st = a.mem.view.getUint32(rx.ring.offset + s * 16 + 8, true);
      expect(st & R.RXD_STAT_DD).toBe(0);
    }
    expect(a.pmd.queueState(0).rdh).toBe(0);
    a.pmd.rxRing(0).program(a.pmd.queuePort);
    const got = collectN(1, () => a.pmd.rx(), 'the frame after re-arm');
    expect(got[0]!.descs).toBe(3);
    recovers();
  });

  it('RX into a read-only DMA map -> DESC_ADDR', () => {
    // Map a second memfd read-only and point slot 0 at it.
    const ro = rig.addon.memfdCreate('vfmed-ro', 65536n);
    try {
      const roIova = 0x7_0000_0000n;
      rig.nic.vfDmaMap(0, roIova, 65536n, ro, 0n, 1);
      const view = new Uint8Array(rig.addon.mmapShared(ro, 65536, 0n));
      view.fill(0x5a);
      const rx = a.pmd.rxRing(0);
      a.mem.view.setBigUint64(rx.ring.offset, roIova, true);
      b.pmd.tx([buildFrame({ dst: vfMac(0), src: vfMac(1), stream: 5, seq: 0, len: 200 })]);
      expect(rxFault()).toBe(R.QERR.DESC_ADDR);
      expect(view.every((x) => x === 0x5a)).toBe(true);
      rig.addon.munmap(view.buffer as ArrayBuffer);
      rig.nic.vfDmaUnmap(0, roIova, 65536n);
    } finally {
      rig.addon.close(ro);
    }
    recovers();
  });

  it('RX ring base outside the map -> RING_BASE on the first frame', () => {
    const p = a.pmd.queuePort;
    p.write32(R.RXDCTL(0), 0);
    p.write32(R.RDBAL(0), Number((end + 0x10000n) & 0xffffffffn));
    p.write32(R.RDBAH(0), Number((end + 0x10000n) >> 32n));
    p.write32(R.RXDCTL(0), R.XDCTL_ENABLE);
    p.write32(R.RDH(0), 0);
    p.write32(R.RDT(0), 15);
    b.pmd.tx([buildFrame({ dst: vfMac(0), src: vfMac(1), stream: 6, seq: 0, len: 64 })]);
    expect(rxFault()).toBe(R.QERR.RING_BASE);
    a.pmd.rxRing(0).program(a.pmd.queuePort);
    collectN(1, () => a.pmd.rx(), 'the frame after re-programming');
    recovers();
  });

  it('RX tail beyond the ring is ignored; frames use only posted buffers', () => {
    const p = a.pmd.queuePort;
    const mk = (seq: number): Buffer => buildFrame({ dst: vfMac(0), src: OUTSIDE, stream: 7, seq, len: 100 });
    // The device samples a polled RDT when it has a frame to place: let it see RDT = 15
    // first (a valid doorbell later overwritten is otherwise indistinguishable from one
    // never written).
    rig.nic.uplinkInject(mk(0));
    waitUntil(() => rig.info(0).queues[0].rxHead === 1, 'the first frame in the ring');
    // 15 posted. A tail of 16 or more must not make the device treat the ring as larger.
    p.write32(R.RDT(0), 16);
    p.write32(R.RDT(0), 0x8000);
    for (let seq = 1; seq < 20; seq++) rig.nic.uplinkInject(mk(seq));
    waitUntil(() => rig.info(0).queues[0].rxHead === 15 && rig.info(0).fifoFrames === 5, '15 frames in the ring, 5 waiting',
      { detail: () => JSON.stringify({ q: rig.info(0).queues[0], fifo: rig.info(0).fifoFrames, st: a.pmd.queueState(0) }) });
    expect(a.pmd.queueState(0).rxErr).toBe(0);
    // The PMD's next RDT write (a valid one) gets everything moving again.
    const got = collectN(20, () => a.pmd.rx(), 'all 20 frames');
    expect(got.map((f) => f.data.readUInt32BE(22))).toEqual([...Array(20).keys()]);
  });

  it('guest RAM unmapped under a running queue: the next DMA faults, nothing is touched', () => {
    rig.nic.vfDmaUnmapAll(0);
    b.pmd.tx([buildFrame({ dst: vfMac(0), src: vfMac(1), stream: 8, seq: 0, len: 300 })]);
    expect(rxFault()).toBe(R.QERR.RING_BASE);
    // Map it back (the same memfd) and carry on.
    rig.nic.vfDmaMap(0, a.mem.iovaBase, BigInt(DMA_LEN), a.mem.fd, 0n, 3);
    a.pmd.rxRing(0).program(a.pmd.queuePort);
    collectN(1, () => a.pmd.rx(), 'the waiting frame after re-mapping');
    recovers();
  });

  it('DMA map calls refuse bad ranges (overlap, zero length, unknown unmap)', () => {
    const fd = rig.addon.memfdCreate('vfmed-extra', 65536n);
    try {
      expect(() => rig.nic.vfDmaMap(0, a.mem.iovaBase + 4096n, 4096n, fd, 0n, 3)).toThrow(/EEXIST/);
      expect(() => rig.nic.vfDmaMap(0, 0x9_0000_0000n, 0n, fd, 0n, 3)).toThrow(/EINVAL/);
      expect(() => rig.nic.vfDmaMap(0, 0x9_0000_0000n, 1n << 20n, fd, 0n, 3)).toThrow(/EINVAL/); // beyond the file
      expect(() => rig.nic.vfDmaUnmap(0, 0x9_0000_0000n, 4096n)).toThrow(/ENOENT/);
    } finally {
      rig.addon.close(fd);
    }
    recovers();
  });
});
