/**
 * The guest workloads against the fake device: loopback with injected loss, duplication,
 * reordering and corruption (exact accounting), rxsink, fwd (MAC swap and L2 rewrite),
 * echo (ARP + ICMP replies checked byte by byte) and pcap replay.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { lineOf, runGuest, session, tempDir } from './guest-harness.js';

function inetCsum(b: Buffer): number {
  let s = 0;
  for (let i = 0; i + 1 < b.length; i += 2) s += b.readUInt16BE(i);
  if (b.length & 1) s += b[b.length - 1]! << 8;
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return ~s & 0xffff;
}

describe('loopback and rxsink', () => {
  it('counts lost, duplicated, reordered and corrupted frames exactly', async () => {
    const { guest, lines, report } = await session(
      'loopback',
      ['--count', '60', '--strict'],
      ['--scenario', 'loopback', '--drop', '10', '--dup', '20', '--swap', '30', '--corrupt', '40'],
    );
    expect(report.violations).toEqual([]);
    // Frame 10 dropped and frame 40 corrupted (so its sequence never arrives intact): 2
    // lost; 20 twice: 1 duplicate; 31 before 30: 1 reordered, which is not a loss.
    const sum = lineOf(lines, 'summary');
    expect(sum).toMatchObject({
      reason: 'count',
      tx_packets: 60,
      rx_packets: 60,
      rx_tagged: 58,
      rx_lost: 2,
      rx_duplicated: 1,
      rx_reordered: 1,
      rx_corrupted: 1,
      rx_untagged: 0,
    });
    expect(sum['streams']).toEqual([{ id: 0, sent: 60, received: 58, lost: 2, duplicated: 1, reordered: 1, stale: 0 }]);
    expect(guest.code).toBe(3); // --strict
  });

  it('passes a clean multi-stream loopback under --strict', async () => {
    const { guest, lines, report } = await session('loopback', ['--count', '90', '--streams', '3', '--strict', '--size', '128'], ['--scenario', 'loopback']);
    expect(report.violations).toEqual([]);
    expect(guest.code).toBe(0);
    const sum = lineOf(lines, 'summary');
    expect(sum).toMatchObject({ rx_tagged: 90, rx_lost: 0, rx_duplicated: 0, rx_reordered: 0, rx_corrupted: 0 });
    expect(sum['streams']).toEqual([0, 1, 2].map((id) => ({ id, sent: 30, received: 30, lost: 0, duplicated: 0, reordered: 0, stale: 0 })));
    // Loopback sends to its own MAC.
    expect(report.tx_frames.every((f) => f.dst === '02:00:00:00:00:01' && f.len === 128)).toBe(true);
    expect(lineOf(lines, 'summary')['device']).toMatchObject({ vfgptc: 90, vfgprc: 90 });
  });

  it('rxsink verifies frames coming from the wire', async () => {
    const { guest, lines, report } = await session('rxsink', ['--count', '25', '--strict', '--seq-from-zero'], ['--scenario', 'fwd', '--frames', '25']);
    expect(report.violations).toEqual([]);
    expect(guest.code).toBe(0);
    expect(lineOf(lines, 'summary')).toMatchObject({ rx_packets: 25, rx_tagged: 25, rx_lost: 0, tx_packets: 0 });
  });
});

describe('fwd', () => {
  it('sends every frame back to its sender from the VF MAC, payload untouched', async () => {
    const { guest, lines, report } = await session('fwd', ['--count', '25'], ['--scenario', 'fwd', '--frames', '25']);
    expect(report.violations).toEqual([]);
    expect(guest.code).toBe(0);
    expect(report.tx_frames.map((f) => f.seq)).toEqual([...Array(25).keys()]);
    for (const f of report.tx_frames) {
      // The tag CRC excludes the MAC addresses, so it still verifies after the rewrite.
      expect(f).toMatchObject({ dst: '02:aa:bb:cc:dd:01', src: '02:00:00:00:00:01', tag_ok: true, len: 60 });
    }
    expect(lineOf(lines, 'summary')).toMatchObject({ fwd_frames: 25, rx_packets: 25, tx_packets: 25 });
  });

  it('--fwd-l2 rewrites the destination to --dst', async () => {
    const { guest, report } = await session('fwd', ['--count', '5', '--fwd-l2', '--dst', '02:12:34:56:78:9a'], ['--scenario', 'fwd', '--frames', '5']);
    expect(guest.code).toBe(0);
    expect(report.tx_frames.every((f) => f.dst === '02:12:34:56:78:9a' && f.src === '02:00:00:00:00:01')).toBe(true);
  });
});

describe('echo', () => {
  it('answers ARP and ICMP echo for its address and ignores the rest', async () => {
    const { guest, lines, report } = await session('echo', ['--ip', '10.0.0.1', '--count', '2'], ['--scenario', 'echo']);
    expect(report.violations).toEqual([]);
    expect(guest.code).toBe(0);
    expect(lineOf(lines, 'summary')).toMatchObject({ echo_arp_replies: 1, echo_icmp_replies: 1, echo_ignored: 2 });
    expect(report.tx_frames).toHaveLength(2);

    const arp = Buffer.from(report.tx_frames[0]!.hex!, 'hex');
    expect(arp.length).toBe(60);
    expect(arp.subarray(0, 6).toString('hex')).toBe('02aabbccdd02');
    expect(arp.subarray(6, 12).toString('hex')).toBe('020000000001');
    expect(arp.readUInt16BE(12)).toBe(0x0806);
    expect(arp.readUInt16BE(14 + 6)).toBe(2); // reply
    expect(arp.subarray(14 + 8, 14 + 14).toString('hex')).toBe('020000000001'); // sha
    expect([...arp.subarray(14 + 14, 14 + 18)]).toEqual([10, 0, 0, 1]); // spa
    expect(arp.subarray(14 + 18, 14 + 24).toString('hex')).toBe('02aabbccdd02'); // tha
    expect([...arp.subarray(14 + 24, 14 + 28)]).toEqual([10, 0, 0, 2]); // tpa

    const icmp = Buffer.from(report.tx_frames[1]!.hex!, 'hex');
    const ip = icmp.subarray(14);
    const total = ip.readUInt16BE(2);
    expect(icmp.subarray(0, 6).toString('hex')).toBe('02aabbccdd02');
    expect(ip[9]).toBe(1);
    expect([...ip.subarray(12, 16)]).toEqual([10, 0, 0, 1]);
    expect([...ip.subarray(16, 20)]).toEqual([10, 0, 0, 2]);
    expect(inetCsum(ip.subarray(0, 20))).toBe(0);
    const msg = ip.subarray(20, total);
    expect(msg[0]).toBe(0); // echo reply
    expect(inetCsum(msg)).toBe(0);
    expect(msg.readUInt16BE(4)).toBe(0x1234); // identifier
    expect(msg.readUInt16BE(6)).toBe(7); // sequence
    expect(msg.subarray(8).toString()).toBe('vfmed-ping-payload'.repeat(3));
  });
});

/** Classic pcap, microsecond timestamps, LINKTYPE_ETHERNET. */
function pcap(frames: Buffer[]): Buffer {
  const gh = Buffer.alloc(24);
  gh.writeUInt32LE(0xa1b2c3d4, 0);
  gh.writeUInt16LE(2, 4);
  gh.writeUInt16LE(4, 6);
  gh.writeUInt32LE(65535, 16);
  gh.writeUInt32LE(1, 20);
  const recs = frames.map((f, i) => {
    const h = Buffer.alloc(16);
    h.writeUInt32LE(1700000000 + i, 0);
    h.writeUInt32LE(f.length, 8);
    h.writeUInt32LE(f.length, 12);
    return Buffer.concat([h, f]);
  });
  return Buffer.concat([gh, ...recs]);
}

function udpLike(len: number, fill: number): Buffer {
  const f = Buffer.alloc(len, fill);
  Buffer.from('02000000000102000000aaaa0800', 'hex').copy(f, 0);
  return f;
}

describe('txgen --pcap', () => {
  const frames = [udpLike(64, 0x11), udpLike(300, 0x22), udpLike(1514, 0x33)];

  it('replays the frames cyclically with the sequence trailer stamped on', async () => {
    const t = tempDir();
    try {
      const file = join(t.dir, 'in.pcap');
      writeFileSync(file, pcap(frames));
      const { guest, report } = await session('txgen', ['--count', '7', '--pcap', file]);
      expect(guest.code).toBe(0);
      expect(report.violations).toEqual([]);
      expect(report.tx_frames.map((f) => [f.len, f.seq, f.tag_ok])).toEqual(
        [0, 1, 2, 3, 4, 5, 6].map((i) => [frames[i % 3]!.length, i, true]),
      );
    } finally {
      t.cleanup();
    }
  });

  it('--no-stamp sends the pcap bytes unmodified', async () => {
    const t = tempDir();
    try {
      const file = join(t.dir, 'in.pcap');
      writeFileSync(file, pcap(frames));
      const { guest, report } = await session('txgen', ['--count', '3', '--pcap', file, '--no-stamp']);
      expect(guest.code).toBe(0);
      expect(report.tx_frames.map((f) => f.hex)).toEqual(frames.map((f) => f.toString('hex')));
    } finally {
      t.cleanup();
    }
  });

  it('refuses pcapng and garbage with a clear message', async () => {
    const t = tempDir();
    try {
      const ng = join(t.dir, 'x.pcapng');
      writeFileSync(ng, Buffer.from('0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff1c000000', 'hex'));
      // Checked before the device is touched: the guest never connects.
      let r = await runGuest(['txgen', '--socket', join(t.dir, 'none.sock'), '--pcap', ng]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/pcapng is not supported/);
      const junk = join(t.dir, 'junk.pcap');
      writeFileSync(junk, Buffer.alloc(100, 0x41));
      r = await runGuest(['txgen', '--socket', join(t.dir, 'none.sock'), '--pcap', junk]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/not a pcap file/);
      r = await runGuest(['txgen', '--socket', join(t.dir, 'none.sock'), '--pcap', join(t.dir, 'missing.pcap')]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/cannot open the pcap file/);
    } finally {
      t.cleanup();
    }
  });
});
