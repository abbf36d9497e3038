// Live migration that does not complete (docs/live-migration.md, failure semantics): the
// destination refuses (another guest layout, or its device refuses the initial data), the
// destination dies mid pre-copy, the operator cancels. In every case the source reports
// "failed" with the stage, its device is RUNNING again, and its workload finishes with
// every frame exactly once (--strict). Also: the monitor survives bad clients.
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { DaemonRig, type DaemonOptions } from '../mediate/helpers/daemon-rig.js';
import { GuestProcess } from '../mediate/helpers/guest-process.js';
import { LiveResources, SharedWire, monitorPath, startIncoming } from './helpers/live-rig.js';
import { MonitorClient } from '../helpers/monitor-client.js';

const res = new LiveResources();
afterEach(() => res.teardown());

const COUNT = 16000; // 0.8 s at 20 kpps: the workload outlives every failure below
const SRC = ['loopback', '--ring', '64', '--size', '200', '--rate', '20000', '--count', String(COUNT), '--ram', '8M',
  '--ram-fill', 'random', '--stats-interval', '50', '--strict', '--drain-timeout', '15000'];

async function setup(tag: string, dstArgs: string[] = SRC, dstOpts: DaemonOptions = {}) {
  const a = new DaemonRig(`${tag}a`), b = new DaemonRig(`${tag}b`, dstOpts);
  res.rigs.push(a, b);
  const wire = new SharedWire(a, b);
  res.cleanup.push(() => wire.stop());
  const mon = monitorPath(tag);
  res.cleanup.push(() => rmSync(mon, { force: true }));
  const src = new GuestProcess([SRC[0]!, '--socket', a.path(0), '--monitor', mon, ...SRC.slice(1)]);
  res.guests.push(src);
  const dst = await startIncoming(b, dstArgs);
  res.guests.push(dst.guest);
  const client = await MonitorClient.connect(mon, 10_000);
  res.cleanup.push(() => client.close());
  await src.waitFor((l) => l.type === 'stats' && (l['rx_tagged'] as number) > 300, 'traffic flowing');
  return { a, b, wire, src, dst: dst.guest, port: dst.port, client, mon };
}

/** The source went on after the failure: all frames exactly once, its VF RUNNING. */
async function expectSourceIntact(src: GuestProcess, a: DaemonRig, wire: SharedWire): Promise<void> {
  const exit = await src.exited;
  expect({ exit: exit.code, dropped: wire.dropped }, `${JSON.stringify(src.line('summary'))}\n${src.stderr}`).toEqual({ exit: 0, dropped: 0 });
  expect(src.line('summary')).toMatchObject({ reason: 'count', rx_tagged: COUNT, rx_lost: 0, rx_duplicated: 0, rx_reordered: 0, rx_corrupted: 0 });
  expect(a.nic.vfInfo(0).rxPackets).toBeGreaterThanOrEqual(BigInt(COUNT));
}

const failed = (c: MonitorClient) => c.waitEvent((e) => e['event'] === 'failed' || e['event'] === 'completed', 'the migration to end');

describe('live migration failures fail back', () => {
  it('another guest layout on the destination: REFUSED before any RAM, the source runs on', async () => {
    const dstArgs = SRC.map((x, i) => (SRC[i - 1] === '--ring' ? '128' : x));
    const { src, dst, port, client, a, wire } = await setup('ref', dstArgs);
    expect(await client.request({ cmd: 'migrate', to: `127.0.0.1:${port}` })).toMatchObject({ ok: true });
    const f = await failed(client);
    expect(f).toMatchObject({ event: 'failed', stage: 'compat', source_running: true });
    expect(f['error']).toMatch(/refused by the destination: guest configuration differs: .*tx_ring=64.*tx_ring=128/);
    expect((await dst.exited).code).toBe(1);
    expect(await client.request({ cmd: 'query-migrate' })).toMatchObject({ ok: true, status: 'failed', last: { event: 'failed' } });
    await expectSourceIntact(src, a, wire);
  });

  it('the destination device refuses the initial data: REFUSED with its reason, the source runs on', async () => {
    const { src, dst, port, client, a, wire } = await setup('refdev', SRC, { rxFifoBytes: 32 * 1024 });
    await client.request({ cmd: 'migrate', to: `127.0.0.1:${port}` });
    const f = await failed(client);
    expect(f).toMatchObject({ event: 'failed', stage: 'compat', source_running: true });
    expect(f['error']).toMatch(/refused by the destination: the destination device refused the initial data/);
    expect((await dst.exited).code).toBe(1);
    await expectSourceIntact(src, a, wire);
  });

  it('the destination dies mid pre-copy: failed, the source keeps running with its traffic intact', async () => {
    const { src, dst, port, client, a, wire } = await setup('kill');
    // 2 MB/s: round 0 of 8 MiB takes seconds, so the destination dies in the middle of it.
    await client.request({ cmd: 'migrate', to: `127.0.0.1:${port}`, max_bandwidth: 2_000_000 });
    await client.waitEvent((e) => e['phase'] === 'compat-ok', 'compat-ok');
    await dst.waitFor((l) => l['phase'] === 'compat-ok', 'the destination loading');
    await new Promise((r) => setTimeout(r, 200));
    dst.signal('SIGKILL');
    const f = await failed(client);
    expect(f).toMatchObject({ event: 'failed', stage: 'precopy', source_running: true });
    expect(f['error']).toMatch(/destination closed|sending the stream|reset/);
    await expectSourceIntact(src, a, wire);
  });

  it('migrate-cancel during pre-copy: failed "cancelled", the destination gives up, the source runs on', async () => {
    const { src, dst, port, client, a, wire } = await setup('cancel');
    await client.request({ cmd: 'migrate', to: `127.0.0.1:${port}`, max_bandwidth: 2_000_000 });
    await client.waitEvent((e) => e['phase'] === 'compat-ok', 'compat-ok');
    expect(await client.request({ cmd: 'migrate', to: `127.0.0.1:${port}` })).toMatchObject({ ok: false, error: 'a migration is already in progress' });
    expect(await client.request({ cmd: 'migrate-cancel' })).toMatchObject({ ok: true });
    const f = await failed(client);
    expect(f).toMatchObject({ event: 'failed', error: 'cancelled', stage: 'precopy', source_running: true });
    expect((await dst.exited).code).toBe(1);
    expect(dst.stderr).toMatch(/closed the connection before END/);
    expect(await client.request({ cmd: 'migrate-cancel' })).toMatchObject({ ok: false });
    await expectSourceIntact(src, a, wire);
  });

  it('nobody listening: failed at setup, the source runs on', async () => {
    const { src, client, a, wire, dst } = await setup('noconn');
    await dst.stop();
    await client.request({ cmd: 'migrate', to: '127.0.0.1:1', timeout_ms: 2000 });
    const f = await failed(client);
    expect(f).toMatchObject({ event: 'failed', stage: 'setup', source_running: true });
    expect(f['error']).toMatch(/connecting to 127\.0\.0\.1:1/);
    await expectSourceIntact(src, a, wire);
  });
});

describe('monitor robustness', () => {
  it('bad lines close only that client; bad requests get errors; the runner never stops', async () => {
    const dmon = monitorPath('mondst');
    res.cleanup.push(() => rmSync(dmon, { force: true }));
    const { src, dst, client, a, wire, mon } = await setup('mon', [...SRC, '--monitor', dmon]);
    const closedWith = async (text: string) => {
      const c = await MonitorClient.connect(mon, 10_000);
      c.writeRaw(text);
      await c.untilClosed('the bad client to be closed');
      return c.replies[0]?.['error'];
    };
    expect(await closedWith('this is not json\n')).toMatch(/invalid request/);
    expect(await closedWith('[1,2]\n')).toMatch(/not a JSON object/);
    expect(await closedWith(`{"cmd":"${'x'.repeat(70_000)}`)).toMatch(/64 KiB/);
    expect(await client.request({ cmd: 'nope' })).toMatchObject({ ok: false, error: expect.stringMatching(/unknown command/) });
    expect(await client.request({ foo: 1 })).toMatchObject({ ok: false, error: expect.stringMatching(/cmd/) });
    expect(await client.request({ cmd: 'migrate', to: 'nohost' })).toMatchObject({ ok: false, error: expect.stringMatching(/HOST:PORT/) });
    expect(await client.request({ cmd: 'migrate', to: '127.0.0.1:5', max_rounds: 0 })).toMatchObject({ ok: false });
    expect(await client.request({ cmd: 'query-migrate' })).toMatchObject({ ok: true, status: 'none', last: null });
    // The destination's monitor answers, but refuses to start a migration of its own.
    const d = await MonitorClient.connect(dmon, 10_000);
    res.cleanup.push(() => d.close());
    expect(await d.request({ cmd: 'query-migrate' })).toMatchObject({ ok: true, status: 'active' });
    expect(await d.request({ cmd: 'migrate', to: '127.0.0.1:5' })).toMatchObject({ ok: false, error: expect.stringMatching(/destination/) });
    await dst.stop();
    await expectSourceIntact(src, a, wire);
  });
});
