/**
 * How BAR0 accesses reach the device: --trap-all (every access an MMIO exit) and the BAR
 * layout notification (the server withdraws the queue pages' sparse-mmap areas, signals
 * the eventfd, the client re-queries and unmaps them so that tail writes start trapping,
 * then everything is mapped again).
 */
import { describe, expect, it } from 'vitest';

import { lineOf, session } from './guest-harness.js';

describe('BAR0 trapping', () => {
  it('--trap-all turns every queue-register access into REGION_READ/WRITE', async () => {
    const n = 100;
    const { guest, lines, report } = await session('txgen', ['--count', String(n), '--trap-all']);
    expect(guest.code).toBe(0);
    expect(report.violations).toEqual([]);
    expect(lineOf(lines, 'init')).toMatchObject({ bar0_mapped_pages: [], bar0_trapped_pages: [0, 1, 2, 3] });
    expect(lineOf(lines, 'bar_layout')).toMatchObject({ trap_all: true, mapped_pages: [] });
    // One doorbell per burst of at most 32 frames, each a trapped REGION_WRITE of TDT.
    expect(report.trapped_tdt_writes).toBeGreaterThanOrEqual(Math.ceil(n / 32));
    expect(report.trapped_tdt_writes).toBeLessThanOrEqual(n);
    // The queue pages were offered for mmap; the client trapped them on purpose.
    expect(report['trapped_writes_of_mapped_pages'] as number).toBeGreaterThan(0);
    expect(report.tx_frames.map((f) => f.seq)).toEqual([...Array(n).keys()]);
    expect(lineOf(lines, 'summary')).toMatchObject({ tx_packets: n, tx_undrained: 0, mmio_errors: 0 });
  });

  it('--trap-all keeps RX running: RDT updates arrive as REGION_WRITE and the ring wraps', async () => {
    // 600 frames through 64-entry rings: RX only keeps going if every RDT write arrives.
    const { guest, lines, report } = await session('loopback', ['--count', '600', '--ring', '64', '--trap-all', '--strict'], ['--scenario', 'loopback']);
    expect(report.violations).toEqual([]);
    expect(guest.code).toBe(0);
    expect(report.rx_delivered).toBe(600);
    expect(report.queue_regs['rdt']).toBe((600 - 1) % 64);
    expect(lineOf(lines, 'summary')).toMatchObject({ rx_tagged: 600, rx_lost: 0, reason: 'count' });
  });

  it('follows BAR layout changes: tail writes trap while the queue pages are withdrawn', async () => {
    const n = 300;
    const { guest, lines, report } = await session(
      'txgen',
      ['--count', String(n), '--ring', '64'],
      ['--scenario', 'layout', '--frames', String(n)],
    );
    expect(guest.stderr).toBe('');
    expect(guest.code).toBe(0);
    // Includes the check that TDT never moved through a stale mapping once the client had
    // the trapped layout.
    expect(report.violations).toEqual([]);
    expect(report['layout_flips']).toEqual([
      { trapped: true, at_tx_frame: 100 },
      { trapped: false, at_tx_frame: 200 },
    ]);
    expect(report.layout_queries).toBe(3); // initial + one per change
    expect(report.trapped_tdt_writes).toBeGreaterThan(0);

    const layouts = lines.filter((l) => l.type === 'bar_layout');
    expect(layouts.map((l) => [l['reason'], l['mapped_pages']])).toEqual([
      ['initial', [2, 3]],
      ['changed', []],
      ['changed', [2, 3]],
    ]);
    // Nothing lost or reordered across the transitions.
    expect(report.tx_frames.map((f) => f.seq)).toEqual([...Array(n).keys()]);
    expect(report.tx_frames.every((f) => f.tag_ok)).toBe(true);
    expect(lineOf(lines, 'summary')).toMatchObject({ tx_packets: n, layout_changes: 2, tx_undrained: 0 });
  });
});
