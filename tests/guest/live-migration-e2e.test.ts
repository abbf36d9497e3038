// Cross-host live migration of a running guest (docs/live-migration.md): two daemons (the
// "hosts", in this process), a vfmed-guest source driven through its --monitor socket, a
// vfmed-guest --incoming destination, the migration stream over real TCP on 127.0.0.1, and
// the guest's loopback traffic crossing one shared L2 segment. Every frame exactly once
// (--strict), RAM digests equal on both sides, pre-copy rounds with CPU and device dirty
// pages while traffic flows.
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { DaemonRig } from '../mediate/helpers/daemon-rig.js';
import type { GuestProcess } from '../mediate/helpers/guest-process.js';
import { GuestProcess as Guest } from '../mediate/helpers/guest-process.js';
import { LiveResources, SharedWire, monitorPath, startIncoming, type Json } from './helpers/live-rig.js';
import { MonitorClient } from '../helpers/monitor-client.js';

const res = new LiveResources();
afterEach(() => res.teardown());

const WORKLOAD = ['--ring', '64', '--size', '200', '--streams', '2', '--stats-interval', '50', '--strict', '--drain-timeout', '15000'];

async function pair(tag: string, srcArgs: string[], opts: { dstArgs?: string[] } = {}) {
  const a = new DaemonRig(`${tag}a`), b = new DaemonRig(`${tag}b`);
  res.rigs.push(a, b);
  const wire = new SharedWire(a, b);
  res.cleanup.push(() => wire.stop());
  const mon = monitorPath(tag);
  res.cleanup.push(() => rmSync(mon, { force: true }));
  const src = new Guest([srcArgs[0]!, '--socket', a.path(0), '--monitor', mon, ...srcArgs.slice(1)]);
  res.guests.push(src);
  const dst = await startIncoming(b, opts.dstArgs ?? srcArgs);
  res.guests.push(dst.guest);
  const client = await MonitorClient.connect(mon, 10_000);
  res.cleanup.push(() => client.close());
  return { a, b, wire, src, dst: dst.guest, port: dst.port, client };
}

describe('live migration between two daemons over TCP', () => {
  it('loopback with traffic: completed, 0 lost/dup, RAM digests equal, the destination goes on', async () => {
    const count = 6000;
    const args = ['loopback', ...WORKLOAD, '--rate', '20000', '--count', String(count), '--ram', '8M', '--ram-fill', 'random'];
    const { src, dst, port, client, b, wire } = await pair('e2e', args);
    await src.waitFor((l) => l.type === 'stats' && (l['rx_tagged'] as number) > 500, 'traffic flowing');
    const rep = await client.request({ cmd: 'migrate', to: `127.0.0.1:${port}`, verify_ram: true, downtime_limit_ms: 50 });
    expect(rep).toMatchObject({ ok: true });
    const done = await client.waitEvent((e) => e['event'] === 'completed' || e['event'] === 'failed', 'the migration to end');
    expect(done, JSON.stringify(done)).toMatchObject({ event: 'completed' });
    expect((await src.exited).code, src.stderr).toBe(0);
    expect(src.line('summary')).toMatchObject({ reason: 'migrated' });
    const dstExit = await dst.exited;
    expect(dstExit.code, dst.stderr).toBe(0);
    const loaded = dst.lines.find((l) => l.type === 'live_migration' && l['phase'] === 'completed')!;
    expect(loaded['ram_digest']).toBe(done['ram_digest']);
    expect(typeof done['ram_digest']).toBe('string');
    expect(dst.line('init')).toMatchObject({ resumed: true });
    expect(dst.lines.find((l) => l['phase'] === 'announced')).toMatchObject({ frame: 'rarp' });
    const sum = dst.line('summary');
    expect(sum).toMatchObject({ reason: 'count', rx_tagged: count, rx_lost: 0, rx_duplicated: 0, rx_reordered: 0, rx_stale: 0, rx_corrupted: 0 });
    expect(wire.dropped).toBe(0);
    const events = client.events.map((e) => e['event'] === 'migration' ? e['phase'] : e['event']);
    expect(events.slice(0, 2)).toEqual(['setup', 'compat-ok']);
    expect(events.at(-1)).toBe('completed');
    expect((done['bytes_sent'] as number)).toBeGreaterThan(8 << 20); // random fill: RAM really moved
    expect(b.nic.vfInfo(0).rxPackets).toBeGreaterThan(0n);
  });

  it.each(['tail-trap', 'device-log'])('pre-copy rounds > 1 with traffic (%s): CPU and device dirty pages every round, then switchover', async (tracker) => {
    const count = 8000;
    const args = ['loopback', ...WORKLOAD, '--rate', '20000', '--count', String(count), '--ram', '8M'];
    const { src, dst, port, client } = await pair(`rounds-${tracker}`, args);
    await src.waitFor((l) => l.type === 'stats' && (l['rx_tagged'] as number) > 500, 'traffic flowing');
    // A zero downtime limit can never be met: exactly max_rounds pre-copy rounds.
    expect(await client.request({ cmd: 'migrate', to: `127.0.0.1:${port}`, downtime_limit_ms: 0, max_rounds: 4, dirty_tracking: tracker }))
      .toMatchObject({ ok: true });
    const done = await client.waitEvent((e) => e['event'] === 'completed' || e['event'] === 'failed', 'the migration to end');
    expect(done['event'], JSON.stringify(done)).toBe('completed');
    expect(done['tracker']).toBe(tracker);
    const progress = client.events.filter((e) => e['event'] === 'progress');
    expect(progress.map((e) => e['round'])).toEqual([0, 1, 2, 3]);
    expect(progress[0]).toMatchObject({ ram_bytes: 8 << 20, pages_sent: 2048 });
    const rounds = done['rounds'] as Json[];
    expect(rounds).toHaveLength(5); // 4 pre-copy rounds + the stop-copy round
    for (const r of rounds.slice(1)) {
      expect(r['pages_cpu'] as number).toBeGreaterThan(0);    // the driver wrote rings/state
      expect(r['pages_device'] as number).toBeGreaterThan(0); // the device wrote RX buffers
      expect(r['pages'] as number).toBeLessThan(2048);
    }
    expect(done['ram_digest']).toBeNull();
    expect((await src.exited).code, src.stderr).toBe(0);
    expect((await dst.exited).code, dst.stderr).toBe(0);
    expect(dst.line('summary')).toMatchObject({ reason: 'count', rx_tagged: count, rx_lost: 0, rx_duplicated: 0, rx_reordered: 0 });
  });
});
