// The poll-mode driver's RX and TX bookkeeping against a scripted "device" (no addon):
// reassembly of a frame whose descriptors complete across several rx() calls, dropping a
// frame whose EOP descriptor carries an error bit, the RDT batching arithmetic (RDT always
// = clean - 1 once posted), and TX reclaim only after the RS descriptor has DD.
import { describe, expect, it } from 'vitest';
import { fakeMemory, fakePort } from '../helpers/fake-device.js';
import { IgbvfPmd } from '../../mediator/demo/igbvf-pmd.js';
import * as R from '../../mediator/demo/vf-regs.js';

function setup(opts: { rxBatch?: number } = {}) {
  const port = fakePort();
  const mem = fakeMemory();
  const pmd = new IgbvfPmd({ misc: port, queues: port, mem, txRingSize: 8, rxRingSize: 8, rxBufSize: 1024, rxBatch: opts.rxBatch ?? 2 });
  for (const t of pmd.txRings) t.program(port);
  for (const r of pmd.rxRings) r.program(port);
  const rx = pmd.rxRing(0);
  /** Device write-back of RX slot `slot`: `len` bytes of `fill`, status last. */
  const complete = (slot: number, len: number, fill: number, status: number): void => {
    const d = rx.ring.offset + slot * 16;
    mem.u8.fill(fill, rx.bufs.offset + slot * 1024, rx.bufs.offset + slot * 1024 + len);
    mem.view.setUint16(d + R.RXD_OFF_LENGTH, len, true);
    mem.view.setUint32(d + R.RXD_OFF_STATUS, status >>> 0, true);
  };
  return { port, mem, pmd, rx, complete };
}

describe('igbvf PMD RX/TX bookkeeping', () => {
  it('programs RX as igbvf-vf.md 5 says and posts n - 1 buffers', () => {
    const { port, rx, mem } = setup();
    expect(port.regs.get(R.RDLEN(0))).toBe(8 * 16);
    expect(port.regs.get(R.SRRCTL(0))).toBe(R.SRRCTL_DESCTYPE_ADV_ONEBUF | 1);
    expect(port.regs.get(R.RXDCTL(0))! & R.XDCTL_ENABLE).toBe(R.XDCTL_ENABLE);
    expect(port.regs.get(R.RDT(0))).toBe(7);
    for (let s = 0; s < 8; s++) {
      expect(mem.view.getBigUint64(rx.ring.offset + s * 16, true)).toBe(rx.bufs.iova + BigInt(s * 1024));
      expect(mem.view.getBigUint64(rx.ring.offset + s * 16 + 8, true)).toBe(0n);
    }
  });

  it('reassembles a frame whose descriptors complete over several polls', () => {
    const { pmd, complete } = setup();
    complete(0, 1024, 0xa1, R.RXD_STAT_DD);
    expect(pmd.rx()).toEqual([]);
    expect(pmd.rxRing(0).indices.partialFragments).toBe(1);
    complete(1, 1024, 0xa2, R.RXD_STAT_DD);
    expect(pmd.rx()).toEqual([]);
    complete(2, 10, 0xa3, R.RXD_STAT_DD | R.RXD_STAT_EOP);
    const got = pmd.rx();
    expect(got).toHaveLength(1);
    expect(got[0]!.descs).toBe(3);
    expect(got[0]!.data.length).toBe(2058);
    expect(got[0]!.data[0]).toBe(0xa1);
    expect(got[0]!.data[1024]).toBe(0xa2);
    expect(got[0]!.data[2057]).toBe(0xa3);
  });

  it('drops a frame whose EOP descriptor has an error bit, and keeps going', () => {
    const { pmd, complete } = setup();
    complete(0, 100, 1, R.RXD_STAT_DD);
    complete(1, 100, 2, R.RXD_STAT_DD | R.RXD_STAT_EOP | R.RXDEXT_ERR_RXE);
    complete(2, 60, 3, R.RXD_STAT_DD | R.RXD_STAT_EOP);
    const got = pmd.rx();
    expect(got).toHaveLength(1);
    expect(got[0]!.data.length).toBe(60);
    expect(pmd.rxRing(0).counters.errors).toBe(1);
  });

  it('re-arms at once, writes RDT = clean - 1 in batches, never ahead of clean', () => {
    const { pmd, port, complete, rx, mem } = setup({ rxBatch: 3 });
    port.writes.length = 0;
    for (let s = 0; s < 5; s++) complete(s, 64, s, R.RXD_STAT_DD | R.RXD_STAT_EOP);
    expect(pmd.rx()).toHaveLength(5);
    // One RDT write after 3 cleaned (RDT = 2), the other 2 wait for the batch.
    expect(port.writes.filter(([o]) => o === R.RDT(0))).toEqual([[R.RDT(0), 2]]);
    // Re-armed descriptors: pkt_addr back, DD cleared.
    for (let s = 0; s < 5; s++) {
      expect(mem.view.getBigUint64(rx.ring.offset + s * 16, true)).toBe(rx.bufs.iova + BigInt(s * 1024));
      expect(mem.view.getUint32(rx.ring.offset + s * 16 + 8, true)).toBe(0);
    }
    pmd.rxRefill();
    expect(port.regs.get(R.RDT(0))).toBe(4);
    // Wrap: 8 more frames through the 8-entry ring.
    for (let k = 0; k < 8; k++) {
      const s = (5 + k) % 8;
      complete(s, 64, k, R.RXD_STAT_DD | R.RXD_STAT_EOP);
      expect(pmd.rx()).toHaveLength(1);
    }
    pmd.rxRefill();
    expect(pmd.rxRing(0).indices.clean).toBe(13 % 8);
    expect(port.regs.get(R.RDT(0))).toBe((13 + 8 - 1) % 8);
  });

  it('TX: PAYLEN and EOP|RS on the last descriptor only; reclaim waits for DD on it', () => {
    const { pmd, port, mem } = setup();
    const t = pmd.txRing(0);
    const frame = new Uint8Array(2500).map((_, i) => i & 0xff);
    expect(pmd.tx([frame], { segmentSize: 1000 })).toBe(1);
    expect(port.regs.get(R.TDT(0))).toBe(3);
    const cmd = (s: number): number => mem.view.getUint32(t.ring.offset + s * 16 + 8, true);
    const ol = (s: number): number => mem.view.getUint32(t.ring.offset + s * 16 + 12, true);
    expect(cmd(0)).toBe((R.TXD_DTYP_DATA | R.TXD_DCMD_DEXT | R.TXD_DCMD_IFCS | 1000) >>> 0);
    expect(cmd(1)).toBe((R.TXD_DTYP_DATA | R.TXD_DCMD_DEXT | R.TXD_DCMD_IFCS | 1000) >>> 0);
    expect(cmd(2)).toBe((R.TXD_DTYP_DATA | R.TXD_DCMD_DEXT | R.TXD_DCMD_IFCS | R.TXD_DCMD_EOP | R.TXD_DCMD_RS | 500) >>> 0);
    for (let s = 0; s < 3; s++) expect(ol(s)).toBe((2500 << R.TXD_PAYLEN_SHIFT) >>> 0);
    expect(Buffer.from(mem.u8.subarray(t.bufs.offset + 2 * t.bufSize, t.bufs.offset + 2 * t.bufSize + 500)))
      .toEqual(Buffer.from(frame.subarray(2000)));
    expect(t.reclaim()).toBe(0);
    mem.view.setUint32(t.ring.offset + 16 + 12, ol(1) | R.TXD_STA_DD, true); // DD on a non-RS slot
    expect(t.reclaim()).toBe(0);
    mem.view.setUint32(t.ring.offset + 2 * 16 + 12, ol(2) | R.TXD_STA_DD, true);
    expect(t.reclaim()).toBe(3);
    expect(t.freeSlots).toBe(7);
  });

  it('TX: never hands over more than n - 1 descriptors, and holdBack defers the doorbell', () => {
    const { pmd, port } = setup();
    const f = new Uint8Array(60);
    expect(pmd.tx(Array.from({ length: 10 }, () => f))).toBe(7);
    expect(port.regs.get(R.TDT(0))).toBe(7);
    const { pmd: p2, port: port2 } = setup();
    expect(p2.tx([f, f, f], { holdBack: 1 })).toBe(3);
    expect(port2.regs.get(R.TDT(0))).toBe(2);
    p2.txFlush();
    expect(port2.regs.get(R.TDT(0))).toBe(3);
  });
});
