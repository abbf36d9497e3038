// Reading pcap files for replay (mediator/wire/pcap-file.ts over pcap-parser): what is
// accepted (either byte order, micro- or nanosecond magic), what is skipped and counted
// (snaplen-truncated, runt, oversize records), and the one-line refusals (pcapng, another
// link type, a file cut inside a record, an empty capture, not a pcap at all).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readPcapFrames } from '../../mediator/wire/pcap-file.js';

const dir = mkdtempSync(join(tmpdir(), 'vfmed-pcapfile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Rec { data: Buffer; orig?: number }

function pcap(recs: Rec[], o: { be?: boolean; magic?: number; linktype?: number; major?: number } = {}): Buffer {
  const w32 = (b: Buffer, v: number, off: number): void => {
    if (o.be) b.writeUInt32BE(v, off);
    else b.writeUInt32LE(v, off);
  };
  const h = Buffer.alloc(24);
  w32(h, o.magic ?? 0xa1b2c3d4, 0);
  if (o.be) {
    h.writeUInt16BE(o.major ?? 2, 4);
    h.writeUInt16BE(4, 6);
  } else {
    h.writeUInt16LE(o.major ?? 2, 4);
    h.writeUInt16LE(4, 6);
  }
  w32(h, 65535, 16);
  w32(h, o.linktype ?? 1, 20);
  const parts = [h];
  for (const r of recs) {
    const rh = Buffer.alloc(16);
    w32(rh, 1, 0);
    w32(rh, 2, 4);
    w32(rh, r.data.length, 8);
    w32(rh, r.orig ?? r.data.length, 12);
    parts.push(rh, r.data);
  }
  return Buffer.concat(parts);
}

function file(name: string, b: Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, b);
  return p;
}

const frame = (n: number, fill: number): Buffer => Buffer.alloc(n, fill);

describe('readPcapFrames', () => {
  it.each([
    ['little-endian, microseconds', {}],
    ['big-endian, microseconds', { be: true }],
    ['little-endian, nanoseconds', { magic: 0xa1b23c4d }],
    ['big-endian, nanoseconds', { be: true, magic: 0xa1b23c4d }],
  ])('%s: every frame, in order, byte for byte', async (_w, o) => {
    const frames = [frame(60, 1), frame(1514, 2), frame(42, 3), frame(9728, 4)];
    const r = await readPcapFrames(file(`ok-${Math.random()}.pcap`, pcap(frames.map((data) => ({ data })), o)));
    expect(r.frames).toEqual(frames);
    expect(r.skipped).toEqual({ truncated: 0, runt: 0, oversize: 0 });
    expect(r.nanosecond).toBe(o.magic === 0xa1b23c4d);
  });

  it('skips and counts what cannot be replayed as it was on the wire', async () => {
    const r = await readPcapFrames(file('skips.pcap', pcap([
      { data: frame(60, 1) },
      { data: frame(100, 2), orig: 1500 },   // captured with a small snaplen
      { data: frame(10, 3) },                // shorter than an Ethernet header
      { data: frame(9729, 4) },              // longer than the model's largest frame
      { data: frame(64, 5) },
    ])));
    expect(r.frames).toEqual([frame(60, 1), frame(64, 5)]);
    expect(r.skipped).toEqual({ truncated: 1, runt: 1, oversize: 1 });
  });

  it.each([
    ['pcapng', Buffer.from('0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff1c000000', 'hex'), /pcapng is not supported \(convert it: editcap -F pcap IN OUT\)$/],
    ['not a pcap', Buffer.from('hello, this is a text file, longer than 24 bytes\n'), /not a pcap file \(magic 68656c6c\)$/],
    ['too short', Buffer.from('d4c3b2a1', 'hex'), /too short for a pcap header \(4 bytes\)$/],
    ['another link type', pcap([{ data: frame(60, 1) }], { linktype: 113 }), /link type 113, not Ethernet \(1\)$/],
    ['a file cut inside a record', pcap([{ data: frame(60, 1) }, { data: frame(100, 2) }]).subarray(0, 24 + 16 + 60 + 16 + 50),
      /truncated: the file ends inside a record$/],
    ['an empty capture', pcap([]), /no frames$/],
    ['nothing replayable', pcap([{ data: frame(10, 1) }]), /none of its 1 records can be replayed/],
    ['pcap version 1', pcap([{ data: frame(60, 1) }], { major: 1 }), /unsupported pcap version 1\.4$/],
  ])('refuses %s with one line', async (_w, bytes, msg) => {
    const p = file(`bad-${Math.random()}.pcap`, bytes);
    await expect(readPcapFrames(p)).rejects.toMatchObject({ code: 'VFMED_ERR_PCAP', message: expect.stringMatching(msg) as unknown });
  });

  it('refuses a missing file, a directory and an over-size file', async () => {
    await expect(readPcapFrames(join(dir, 'nope.pcap'))).rejects.toThrow(/cannot read: ENOENT$/);
    await expect(readPcapFrames(dir)).rejects.toThrow(/not a regular file$/);
    const big = file('big.pcap', pcap([{ data: frame(1000, 1) }]));
    await expect(readPcapFrames(big, { maxBytes: 100 })).rejects.toThrow(/1040 bytes, more than the 100-byte limit$/);
  });
});
