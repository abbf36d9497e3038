/**
 * --uio: BAR0 mapped whole from a file (like a sysfs resource0 or a BAR file under
 * /dev/shm), guest RAM in a file the device side would map. Nothing traps, so the driver
 * must not touch pages 0-1 at all (their side effects cannot exist in plain memory); it
 * programs the queue pages directly and posts descriptors in guest RAM. No device model
 * runs here, so the frames stay in flight: the test checks what the device would see.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { jsonLines, lineOf, runGuest, tempDir } from './guest-harness.js';

describe('--uio mode', () => {
  it('programs only the queue pages and posts descriptors at the right GPAs', async () => {
    const t = tempDir();
    try {
      const bar = join(t.dir, 'resource0');
      const ram = join(t.dir, 'guest-ram');
      writeFileSync(bar, Buffer.alloc(0x4000));
      const base = 0x100000;
      const r = await runGuest([
        'txgen', '--uio', bar, '--ram-file', ram, '--ram', '2M', '--ram-base', `0x${base.toString(16)}`,
        '--mac', '02:00:00:00:00:07', '--ring', '64', '--count', '5', '--drain-timeout', '100', '--stats-interval', '0',
      ]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const lines = jsonLines(r.stdout);
      expect(lineOf(lines, 'init')).toMatchObject({
        mode: 'uio', mac: '02:00:00:00:00:07', bar0_mapped_pages: [0, 1, 2, 3], bar0_trapped_pages: [],
        ram_base: base, tx_ring_gpa: base + 0x10000, rx_ring_gpa: base + 0x20000,
      });
      // Nobody completes the descriptors: they are reported in flight, not lost silently.
      expect(lineOf(lines, 'summary')).toMatchObject({ reason: 'drain-timeout', tx_packets: 5, tx_undrained: 5, mmio_reads: 0, mmio_writes: 0 });

      const b = readFileSync(bar);
      expect(b.subarray(0, 0x2000).every((x) => x === 0)).toBe(true); // pages 0-1 untouched
      expect(b.readUInt32LE(0x3800)).toBe(base + 0x10000); // TDBAL
      expect(b.readUInt32LE(0x3808)).toBe(64 * 16); // TDLEN
      expect(b.readUInt32LE(0x3818)).toBe(5); // TDT
      expect(b.readUInt32LE(0x2800)).toBe(base + 0x20000); // RDBAL
      expect(b.readUInt32LE(0x2818)).toBe(63); // RDT
      expect(b.readUInt32LE(0x280c)).toBe(0x82000002); // SRRCTL

      // Guest RAM file: the state struct and 5 TX descriptors pointing at the TX buffers.
      const m = readFileSync(ram);
      expect(m.subarray(0x1000, 0x1008).toString()).toBe('VFMGUEST');
      const txBufs = base + 0x30000;
      for (let i = 0; i < 5; i++) {
        const d = 0x10000 + 16 * i;
        expect(Number(m.readBigUInt64LE(d))).toBe(txBufs + i * 2048);
        expect(m.readUInt32LE(d + 8)).toBe(60 | 0x2b300000); // len | DEXT|RS|IFCS|EOP|DTYP_DATA
        expect(m.readUInt32LE(d + 12)).toBe(60 << 14); // PAYLEN
        const frame = m.subarray(0x30000 + i * 2048, 0x30000 + i * 2048 + 60);
        expect(frame.subarray(6, 12).toString('hex')).toBe('020000000007');
      }
    } finally {
      t.cleanup();
    }
  });

  it('needs --mac and --ram-file, and says why', async () => {
    const t = tempDir();
    try {
      const bar = join(t.dir, 'resource0');
      writeFileSync(bar, Buffer.alloc(0x4000));
      let r = await runGuest(['txgen', '--uio', bar, '--ram-file', join(t.dir, 'ram')]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/there is no mailbox in UIO mode: pass the VF's MAC/);
      r = await runGuest(['txgen', '--uio', bar, '--mac', '02:00:00:00:00:07']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/the device must reach guest RAM: pass --ram-file/);
      const small = join(t.dir, 'small');
      writeFileSync(small, Buffer.alloc(4096));
      r = await runGuest(['txgen', '--uio', small, '--mac', '02:00:00:00:00:07', '--ram-file', join(t.dir, 'ram')]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/mapping the BAR0 file: No such device or address/);
    } finally {
      t.cleanup();
    }
  });
});
