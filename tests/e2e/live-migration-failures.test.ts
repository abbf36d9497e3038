// Cross-host live migration that fails (docs/live-migration.md, "What a migration does",
// step 5): every failure before CONFIRM leaves the source RUNNING with nothing the guest
// had lost. The same scenario as live-migration.test.ts (txgen → rxsink on host A, the
// rxsink moving to host B), with the stream going through a fault proxy in the test
// process (helpers/tcp-fault-proxy.ts) that reads the stream's framing, so each fault
// lands at a precise point instead of after a sleep:
//
//   destination killed in pre-copy     at a round-0 RAM_PAGES section past 8 MiB
//   destination killed in switchover   when the first DEVICE_STATE section arrives
//   connection reset                   after exactly 8 MiB + 12345 bytes
//   one byte flipped                   at offset 4 MiB + 777 (a round-0 section): CRC,
//                                      through tcp-flip-relay.py (see that test)
//   incompatible destinations          RAM size, queue count (header/config), device
//                                      parameter (the mediator refuses DEVICE_INITIAL)
//   network partition                  END held back: no CONFIRM within --timeout
//   vfmed migrate --cancel             while pre-copy is stalled on the proxy
//
// After each, the rxsink that stayed on A ends by count with every frame exactly once
// (txgen's frames were held back by the stalled VF while it was stopped), and the
// destination gave its VF back.
import { afterEach, describe, expect, it } from 'vitest';
import type { GuestProcess } from '../../mediator/guest/guest-process.js';
import { vfmedRun } from './helpers/daemon-proc.js';
import { HostPair } from './helpers/hosts.js';
import { MonitorClient } from '../helpers/monitor-client.js';
import {
  MIG_PORT, describeRun, expectExactlyOnce, expectSent, expectTrafficStillRunning, hostConfigs, startIncoming,
  startTraffic, vfmedMigrate, type MigrateResult, type Traffic,
} from './helpers/mig-scenario.js';
import { SECTION, TcpFaultProxy, type ProxyOptions } from './helpers/tcp-fault-proxy.js';
import { FlipRelay } from './helpers/flip-relay.js';

const RAM = 64 << 20;
const MIB = 1 << 20;

let pair: HostPair | undefined;
let mon: MonitorClient | undefined;
let proxies: TcpFaultProxy[] = [];
afterEach(async () => {
  mon?.close();
  mon = undefined;
  for (const p of proxies) await p.close();
  proxies = [];
  await pair?.destroy();
  pair = undefined;
});

async function proxyTo(p: HostPair, o: Omit<ProxyOptions, 'listenHost' | 'target'> = {}): Promise<TcpFaultProxy> {
  const px = await TcpFaultProxy.start({ listenHost: p.localIp, target: { host: p.b.ip, port: MIG_PORT }, ...o });
  proxies.push(px);
  return px;
}

interface Rig { pair: HostPair; t: Traffic; dst: GuestProcess; mon: MonitorClient }

async function rig(count = 24_000, b = {}): Promise<Rig> {
  pair = await HostPair.create(hostConfigs(b));
  const t = await startTraffic(pair, { ram: RAM, count, rate: 4000 });
  const dst = await startIncoming(pair, t.rxWorkload);
  mon = await MonitorClient.connect(t.monitor);
  return { pair, t, dst, mon };
}

/** The source failed back as the contract says, and still answers its monitor. */
async function expectFailedBack(r: Rig, m: MigrateResult, stage: string | string[], error?: RegExp): Promise<void> {
  const out = m.outcome;
  expect(out, describeRun(m.run)).toBeDefined();
  expect(m.run.code, describeRun(m.run)).toBe(1);
  expect(out!['event'], JSON.stringify(out)).toBe('failed');
  expect(out!['source_running']).toBe(true);
  expect([stage].flat()).toContain(out!['stage']);
  if (error) expect(String(out!['error'])).toMatch(error);
  expect(m.summary).toMatchObject({ result: 'failed', stage: out!['stage'], source_running: true });
  // The monitor saw the same end, and the source reports it.
  const seen = await r.mon.outcome(30_000);
  expect(seen['event']).toBe('failed');
  const q = await r.mon.request({ cmd: 'query-migrate' });
  expect(q).toMatchObject({ ok: true, status: 'failed' });
}

/** The source kept its traffic: both runners end by count, every frame exactly once, on A. */
async function expectSourceTrafficIntact(r: Rig, count = 24_000): Promise<void> {
  const s = await expectExactlyOnce(r.t.rx, count);
  await expectSent(r.t.tx, count);
  expect(s['migrations']).toBe(0);
  expect((s['device'] as { vfgprc: number }).vfgprc).toBe(s['rx_packets']);
}

/** The destination ended (killed, or exit 1 after an error) and B's VF has no client. */
async function expectDestinationGone(r: Rig, killed: boolean): Promise<void> {
  const ex = await r.dst.finish(30_000);
  if (killed) expect(ex.signal).toBe('SIGKILL');
  else expect(ex.code, ex.stderr).toBe(1);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const vf = (await r.pair.b.daemon.status()).vfs[0]!;
    if (vf.client === null) break;
    if (Date.now() > deadline) throw new Error(`B's VF0 still has a client after the destination ended: ${JSON.stringify(vf.client)}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

describe('live migration failures: the source keeps running (root, network namespaces)', () => {
  it('destination killed during pre-copy', async () => {
    const r = await rig();
    let killedAt: number | undefined;
    const px = await proxyTo(r.pair, {
      onSection: (ev, p) => {
        if (ev.type === SECTION.RAM_PAGES && ev.offset >= 8 * MIB && killedAt === undefined) {
          killedAt = ev.round;
          p.pause();
          r.dst.kill('SIGKILL');
        }
      },
    });
    const m = await vfmedMigrate(r.t.monitor, px.address);
    expect(killedAt, describeRun(m.run)).toBe(0);
    expectTrafficStillRunning(r.t.rx, 24_000, 'the failure');
    expect(m.run.code).not.toBe(0);
    await expectFailedBack(r, m, 'precopy');
    await expectDestinationGone(r, true);
    await expectSourceTrafficIntact(r);
  }, 90_000);

  it('destination killed during switchover (at the first DEVICE_STATE section)', async () => {
    const r = await rig();
    let killed = false;
    const px = await proxyTo(r.pair, {
      onSection: (ev, p) => {
        if (ev.type === SECTION.DEVICE_STATE && !killed) {
          killed = true;
          p.pause();
          r.dst.kill('SIGKILL');
        }
      },
    });
    const m = await vfmedMigrate(r.t.monitor, px.address);
    expect(killed, describeRun(m.run)).toBe(true);
    expectTrafficStillRunning(r.t.rx, 24_000, 'the failure');
    // It got that far: pre-copy rounds were reported before the switchover failed.
    expect(r.mon.events.some((e) => e['event'] === 'progress')).toBe(true);
    // (the source may have sent everything up to END before the destination died: it then
    // notices while waiting for CONFIRM)
    await expectFailedBack(r, m, ['switchover', 'confirm']);
    await expectDestinationGone(r, true);
    await expectSourceTrafficIntact(r);
  }, 90_000);

  it('the TCP connection is reset mid-stream (proxy cut after 8 MiB + 12345 bytes)', async () => {
    const r = await rig();
    const px = await proxyTo(r.pair, { cutAfter: 8 * MIB + 12_345 });
    const m = await vfmedMigrate(r.t.monitor, px.address);
    expect(px.closedBy, describeRun(m.run)).toBe('cut');
    expect(px.forwarded).toBe(8 * MIB + 12_345);
    expectTrafficStillRunning(r.t.rx, 24_000, 'the failure');
    await expectFailedBack(r, m, 'precopy');
    await expectDestinationGone(r, false);
    await expectSourceTrafficIntact(r);
  }, 90_000);

  it('a network partition at END: no CONFIRM within --timeout, the source takes its guest back', async () => {
    const r = await rig();
    let held = false;
    const px = await proxyTo(r.pair, {
      onSection: (ev, p) => {
        if (ev.type === SECTION.END && !held) {
          held = true;
          p.pause(); // END never arrives: the destination waits, the source waits for CONFIRM
        }
      },
    });
    const m = await vfmedMigrate(r.t.monitor, px.address, ['--timeout', '3000']);
    expect(held, describeRun(m.run)).toBe(true);
    expect(px.returns.map((x) => x.name)).not.toContain('CONFIRM');
    expectTrafficStillRunning(r.t.rx, 24_000, 'the timeout');
    await expectFailedBack(r, m, ['switchover', 'confirm'], /no CONFIRM/);
    // The source closed the stream: the destination, short of END, gives up.
    await expectDestinationGone(r, false);
    await expectSourceTrafficIntact(r);
  }, 90_000);

  it('one byte flipped in the stream is rejected by its CRC, and the source is told why', async () => {
    const r = await rig();
    const off = 4 * MIB + 777;
    // Through the Python relay, not the Node proxy: the destination sends ERROR and closes
    // with the source's bytes unread (an RST); a Node socket whose write fails on that
    // reset is destroyed before it reads the ERROR, the relay reads it and passes it on.
    // 4 MiB lies inside round 0 (64 MiB of pages), whatever the timing.
    const relay = await FlipRelay.start(r.pair.localIp, r.pair.b.ip, MIG_PORT, off);
    const m = await vfmedMigrate(r.t.monitor, `${r.pair.localIp}:${relay.port}`);
    const end = await relay.finished();
    expect(end, describeRun(m.run)).toMatchObject({ flipped: true });
    expectTrafficStillRunning(r.t.rx, 24_000, 'the failure');
    // The destination rejected the section by its CRC, said so on the return path (ERROR)
    // and gave up; the source failed back with that reason.
    expect((await r.dst.exited).stderr).toMatch(/RAM_PAGES section .*CRC mismatch/);
    await expectFailedBack(r, m, 'precopy', /CRC mismatch/);
    await expectDestinationGone(r, false);
    await expectSourceTrafficIntact(r);
  }, 90_000);

  it('incompatible destinations are refused before any downtime: RAM size, queue count, device parameter', async () => {
    // B's NIC has a smaller RX FIFO than A's: the device model parameters differ.
    const count = 32_000;
    const r = await rig(count, { nic: { rxFifoBytes: 32 * 1024 } });
    const wl = r.t.rxWorkload;
    const cases: Array<{ what: string; workload: string[]; stage: string[]; error: RegExp }> = [
      { what: 'RAM size', workload: [...wl, '--ram', String(RAM * 2)], stage: ['setup', 'compat'], error: /ram/i },
      { what: 'queue count', workload: [...wl, '--queues', '2'], stage: ['setup', 'compat'], error: /config|queue|layout/i },
      // vfio-user carries an errno, not the mediator's text: the destination runner asks B's
      // mediator why (DEVICE_FEATURE LAST_ERROR) and the source reports that reason
      { what: 'device parameter', workload: wl, stage: ['compat'], error: /refused.*initial data.*rxFifoBytes: source RX FIFO \d+ bytes exceeds destination's 32768/ },
    ];
    r.dst.kill('SIGKILL'); // the rig's own destination is compatible; each case brings its own
    await r.dst.exited;
    for (const c of cases) {
      const from = r.mon.events.length;
      const dst = await startIncoming(r.pair, c.workload);
      const px = await proxyTo(r.pair);
      const m = await vfmedMigrate(r.t.monitor, px.address);
      expectTrafficStillRunning(r.t.rx, count, `the ${c.what} refusal`);
      const out = m.outcome;
      expect(out, `${c.what}: ${describeRun(m.run)}`).toMatchObject({ event: 'failed', source_running: true });
      expect(c.stage, `${c.what}: ${JSON.stringify(out)}`).toContain(out!['stage']);
      expect(String(out!['error']), c.what).toMatch(c.error);
      // No RAM page and no device state ever left the source: it never stopped.
      const mine = r.mon.events.slice(from);
      expect(mine.filter((e) => e['event'] === 'progress'), c.what).toEqual([]);
      expect(px.sections.filter((s) => s.type !== SECTION.DEVICE_INITIAL).map((s) => s.name), c.what).toEqual([]);
      expect(px.returns.map((x) => x.name), c.what).toContain('REFUSED');
      const ex = await dst.finish(30_000);
      expect(ex.code, `${c.what}: ${ex.stderr}`).toBe(1);
    }
    expect(r.pair.b.daemon.log()).toMatch(/rxFifoBytes/);
    await expectSourceTrafficIntact(r, count);
  }, 120_000);

  it('vfmed migrate --cancel during pre-copy (stream stalled on the proxy)', async () => {
    const r = await rig();
    let paused = false;
    const px = await proxyTo(r.pair, {
      onSection: (ev, p) => {
        if (ev.type === SECTION.RAM_PAGES && ev.offset >= 8 * MIB && !paused) {
          paused = true;
          p.pause();
        }
      },
    });
    const migrating = vfmedMigrate(r.t.monitor, px.address);
    const deadline = Date.now() + 30_000;
    while (!paused) {
      if (Date.now() > deadline) throw new Error(`pre-copy never reached 8 MiB; monitor: ${JSON.stringify(r.mon.events.slice(-3))}`);
      await new Promise((res) => setTimeout(res, 20));
    }
    const cancel = await vfmedRun(['migrate', '--guest', r.t.monitor, '--cancel']);
    expect(cancel.code, describeRun(cancel)).toBe(0);
    const m = await migrating;
    expectTrafficStillRunning(r.t.rx, 24_000, 'the cancel');
    expect(m.run.code, describeRun(m.run)).not.toBe(0);
    await expectFailedBack(r, m, 'precopy', /cancel/);
    px.resume();
    await expectDestinationGone(r, false);
    await expectSourceTrafficIntact(r);
  }, 90_000);
});
