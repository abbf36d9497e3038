// `vfmed migrate` driving a real migration: two daemons (this process), a vfmed-guest
// source with --monitor and a vfmed-guest --incoming destination, the stream over TCP on
// 127.0.0.1, the guest's loopback traffic crossing one shared L2 segment
// (tests/guest/helpers/live-rig.ts). The command's JSON report must match what the runners
// saw, the tracker it asked for must be the one used, and the source VF must have given the
// guest's MAC up once its runner left, while the destination VF owns it.
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { DaemonRig } from '../mediate/helpers/daemon-rig.js';
import { GuestProcess } from '../mediate/helpers/guest-process.js';
import { SharedWire, monitorPath, startIncoming } from '../guest/helpers/live-rig.js';
import { vfmedAsync } from './run-vfmed.js';

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

describe('vfmed migrate with real runners', () => {
  it('moves a running loopback guest: exit 0, the report matches the runners, source VF releases the MAC', async () => {
    // RX FIFOs of 1 MiB: the shared wire holds the guest's frames during the switchover and
    // hands them all to the destination at once (a real bridge would drop some).
    const a = new DaemonRig('clia', { rxFifoBytes: 1 << 20 }), b = new DaemonRig('clib', { rxFifoBytes: 1 << 20 });
    cleanup.push(() => a.close(), () => b.close());
    const wire = new SharedWire(a, b);
    cleanup.push(() => wire.stop());
    const mon = monitorPath('cli');
    cleanup.push(() => rmSync(mon, { force: true }));
    // Enough traffic (3 s) to outlast the command starting up and the migration.
    const count = 30000;
    const args = ['loopback', '--ring', '64', '--size', '200', '--streams', '2', '--stats-interval', '50', '--strict',
      '--rate', '10000', '--count', String(count), '--ram', '8M', '--ram-fill', 'random'];
    const src = new GuestProcess([args[0]!, '--socket', a.path(0), '--monitor', mon, ...args.slice(1)]);
    cleanup.push(() => src.stop());
    const dst = await startIncoming(b, args);
    cleanup.push(() => dst.guest.stop());
    await src.waitFor((l) => l.type === 'stats' && (l['rx_tagged'] as number) > 300, 'traffic flowing');
    const mac = a.pf.vfStatus(0).mac;
    expect(mac.some((x) => x !== 0)).toBe(true);

    const r = await vfmedAsync(['migrate', '--guest', mon, '--to', `127.0.0.1:${dst.port}`, '--json',
      '--dirty-tracking', 'device-log', '--verify-ram', '--downtime-limit', '50', '--timeout', '10000']);
    expect(r.code, `${r.stderr}\nsource runner: ${src.stderr}`).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const summary = lines.at(-1)!;
    const done = lines.find((l) => l['event'] === 'completed')!;
    expect(lines.slice(0, 2)).toEqual([{ event: 'migration', phase: 'setup' }, { event: 'migration', phase: 'compat-ok' }]);
    expect(lines.filter((l) => l['event'] === 'progress').length).toBeGreaterThan(0);
    expect(summary).toMatchObject({
      result: 'completed', tracker: 'device-log', downtime_limit_ms: 50, ram_bytes: 8 << 20, ram_verified: true,
      total_ms: done['total_ms'], downtime_ms: done['downtime_ms'], bytes_sent: done['bytes_sent'],
    });
    expect(summary['ram_multiple'] as number).toBeGreaterThanOrEqual(1); // random fill: all of RAM moved
    expect(summary['rounds']).toBe((done['rounds'] as unknown[]).length);

    expect((await src.exited).code, src.stderr).toBe(0);
    const dstCode = (await dst.guest.exited).code;
    expect(dstCode, `${JSON.stringify(dst.guest.lines.filter((l) => l.type !== 'stats'))} wire ${JSON.stringify({ d: wire.delivered, x: wire.dropped, h: wire.held.length })} ${dst.guest.stderr}`).toBe(0);
    expect(dst.guest.lines.find((l) => l.type === 'live_migration' && l['phase'] === 'completed')?.['ram_digest']).toBe(done['ram_digest']);
    expect(dst.guest.line('summary')).toMatchObject({ reason: 'count', rx_tagged: count, rx_lost: 0, rx_duplicated: 0, rx_reordered: 0 });
    expect(wire.dropped).toBe(0);
    // The source VF gave the MAC up; the destination's VF carries it (loaded with the state).
    await new Promise<void>((resolve, reject) => {
      const t0 = Date.now();
      const poll = () => (a.servers[0]!.attached === null ? resolve() : Date.now() - t0 > 10_000 ? reject(new Error('source VF never released')) : setTimeout(poll, 5));
      poll();
    });
    expect([...a.pf.vfStatus(0).mac]).toEqual([0, 0, 0, 0, 0, 0]);
    expect([...b.nic.vfInfo(0).mac]).toEqual([...mac]);
  });
});
