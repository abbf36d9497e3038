/**
 * Trial entry point `migration`: one live migration of a running guest and its VF from one
 * host to another, under traffic, and what it cost.
 *
 * Two hosts in this child process (two emulated NICs, each with its PF driver, VF mediate
 * driver and vfio-user server: bench/trials/traffic/host.ts) whose uplinks are joined by a
 * lossless L2 fabric (native/wire/fabric.c: frames for a VF that is being migrated wait in
 * the fabric instead of being dropped, as on a PAUSE-capable data-centre network). The
 * guest is a vfmed-guest running `loopback` at ratePps (its frames go to its own MAC out of
 * the uplink and come back through the fabric, wherever the guest runs), or `rxsink` when
 * idle; ramMiB of guest RAM filled with random bytes so every page really moves. A second
 * vfmed-guest waits on host B in incoming mode. The trial asks the source's monitor to
 * migrate (the request `vfmed migrate` sends) over TCP on 127.0.0.1 with the tracker under
 * test, then lets the destination run on and reads its receive accounting.
 *
 *   downtime     ms, source CPU paused -> destination confirmed running (the runner's figure)
 *   total        ms, migrate request -> completed
 *   bytes        bytes the source sent (RAM pages, device state, framing)
 *   ramMultiple  bytes / guest RAM, in percent (the goal: <= 150 with tail-trap)
 *   framesLost   frames of the guest's own stream missing (later ones arrived) half a second
 *                after the switchover (must be 0)
 *   framesDuplicated                       ... received twice (must be 0)
 *   sourceRate   frames/s the guest really sent just before the migration: the fabric paces
 *                a sender faster than it (PAUSE), so a row's ratePps is what is offered
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TrackerMode } from '../../../mediator/mediate/dirty-tracker.js';
import { MonitorClient } from '../../../mediator/guest/monitor-client.js';
import type { CompletedEvent } from '../../../mediator/guest/monitor-protocol.js';
import { createFabric } from '../../../mediator/wire/wire-native.js';
import type { JsonObject } from '../../scenario-types.js';
import { intIn, oneOf, onlyKeys } from '../params.js';
import type { TrialContext, TrialEntryPoint, TrialOutput } from '../protocol.js';
import { Guest, type GuestLine } from '../traffic/guest.js';
import { MediatedHost } from '../traffic/host.js';

interface MigrationParams {
  tracker: TrackerMode;
  ramMiB: number;
  ratePps: number;
  frameBytes: number;
  downtimeLimitMs: number;
}

function parse(p: JsonObject): MigrationParams {
  onlyKeys(p, ['tracker', 'ramMiB', 'ratePps', 'frameBytes', 'downtimeLimitMs', 'link']);
  if (p['link'] !== undefined && p['link'] !== 'fabric') throw new RangeError('"link" must be "fabric"');
  return {
    tracker: oneOf(p, 'tracker', ['tail-trap', 'device-log', 'all'] as const),
    ramMiB: intIn(p, 'ramMiB', 16, 4096),
    ratePps: intIn(p, 'ratePps', 0, 10_000_000),
    frameBytes: intIn(p, 'frameBytes', 64, 1514),
    downtimeLimitMs: intIn(p, 'downtimeLimitMs', 1, 10_000),
  };
}

/** The guest's command line without --socket (the same on both hosts, as QEMU wants). */
function workload(p: MigrationParams): string[] {
  const common = ['--ram', `${p.ramMiB}M`, '--ram-fill', 'random', '--ring', '256', '--stats-interval', '100'];
  if (p.ratePps === 0) return ['rxsink', ...common];
  return ['loopback', ...common, '--rate', String(p.ratePps), '--size', String(p.frameBytes - 4), '--burst', '32'];
}

function num(l: GuestLine | undefined, key: string): number {
  const v = l?.[key];
  return typeof v === 'number' ? v : 0;
}

async function untilCompleted(mon: MonitorClient, timeoutMs: number): Promise<CompletedEvent> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`the migration did not finish within ${timeoutMs} ms`);
    let timer: NodeJS.Timeout | undefined;
    const ev = await Promise.race([
      mon.nextEvent(),
      new Promise<never>((_, rej) => { timer = setTimeout(() => rej(new Error(`the migration did not finish within ${timeoutMs} ms`)), left); }),
    ]).finally(() => clearTimeout(timer));
    if (ev.event.event === 'completed') return ev.event as CompletedEvent;
    if (ev.event.event === 'failed') throw new Error(`migration failed: ${String(ev.raw['error'])} (stage ${String(ev.raw['stage'])})`);
  }
}

export const migrationTrial: TrialEntryPoint = {
  validate(params: JsonObject): void {
    parse(params);
  },

  async run(ctx: TrialContext): Promise<TrialOutput> {
    const p = parse(ctx.params);
    const samples: Record<string, number[]> = {
      downtime: [], total: [], bytes: [], ramMultiple: [], framesLost: [], framesDuplicated: [], sourceRate: [],
    };
    const extra: JsonObject = {};
    for (let i = 0; i < ctx.samples; i++) {
      const one = await migrateOnce(p, i);
      samples['downtime']!.push(one.downtime);
      samples['total']!.push(one.total);
      samples['bytes']!.push(one.bytes);
      samples['ramMultiple']!.push((100 * one.bytes) / (p.ramMiB * 1024 * 1024));
      samples['framesLost']!.push(one.lost);
      samples['framesDuplicated']!.push(one.duplicated);
      samples['sourceRate']!.push(one.sourceRate);
      extra[`migration${i}`] = one.detail;
      ctx.progress(i + 1, ctx.samples);
    }
    return { samples, extra };
  },
};

interface OneMigration {
  downtime: number; total: number; bytes: number; lost: number; duplicated: number; sourceRate: number; detail: JsonObject;
}

async function migrateOnce(p: MigrationParams, n: number): Promise<OneMigration> {
  const a = new MediatedHost({ vfs: 1, tracker: p.tracker, baseMac: Uint8Array.of(0x02, 0x76, 0x66, 0x6d, 0xa0, 0x00) });
  const b = new MediatedHost({ vfs: 1, tracker: p.tracker, baseMac: Uint8Array.of(0x02, 0x76, 0x66, 0x6d, 0xb0, 0x00) });
  const fabric = createFabric([a.nic, b.nic]);
  const mon = join(tmpdir(), `vfmed-bench-mon-${process.pid}-${n}-${randomBytes(3).toString('hex')}.sock`);
  const args = workload(p);
  const src = new Guest([args[0]!, '--socket', a.path(0), '--monitor', mon, ...args.slice(1)]);
  const dst = new Guest([args[0]!, '--socket', b.path(0), '--incoming', 'tcp:127.0.0.1:0', ...args.slice(1)]);
  let client: MonitorClient | undefined;
  try {
    await dst.waitFor((l) => l.some((x) => x.type === 'live_migration' && x['phase'] === 'listening'), 'the destination listening', 60_000);
    const port = num(dst.lines.find((x) => x.type === 'live_migration' && x['phase'] === 'listening'), 'port');
    // Traffic settles (a few stats windows) before the migration starts.
    await src.waitFor((l) => l.filter((x) => x.type === 'stats').length >= 3, 'the source guest running', 120_000);
    const before = src.last('stats');
    client = await MonitorClient.connect(mon);
    const reply = await client.request({
      cmd: 'migrate', to: `127.0.0.1:${port}`, dirty_tracking: p.tracker, downtime_limit_ms: p.downtimeLimitMs,
    });
    if (!reply.ok) throw new Error(`migrate refused: ${reply.error ?? 'no reason given'}`);
    const done = await untilCompleted(client, 120_000);
    const srcExit = await src.exited;
    if (srcExit !== 0) throw new Error(`the source runner exited ${srcExit}: ${src.stderr.trim()}`);
    // The destination runs on for a while, so frames lost at the switchover show up as gaps.
    // Gaps are read from a stats line, not the summary: at SIGTERM the summary also counts
    // the frames still in flight as lost, which says nothing about the migration.
    await dst.waitFor((l) => l.filter((x) => x.type === 'stats').length >= 5, 'the destination running on', 60_000);
    const sum = dst.last('stats');
    await dst.stop();
    const fab = fabric.stats();
    const srcVf = a.nic.vfInfo(0), dstVf = b.nic.vfInfo(0);
    return {
      downtime: done.downtime_ms,
      total: done.total_ms,
      bytes: done.bytes_sent,
      lost: num(sum, 'rx_lost'),
      duplicated: num(sum, 'rx_duplicated'),
      sourceRate: num(before, 'tx_pps'),
      detail: {
        rounds: done.rounds.map((r) => ({ ...r })),
        setupMs: done.setup_ms,
        deviceBytes: done.device_bytes,
        destinationRxFrames: num(sum, 'rx_tagged'),
        fabricUnknown: Number(fab.unknown),
        fabricOverflow: Number(fab.overflow),
        fabricHeldMax: Number(fab.heldMax),
        fabricPauses: Number(fab.pauses),
        sourceFifoDrops: Number(srcVf.fifoDrops),
        sourceFifoLeft: srcVf.fifoFrames,
        destinationFifoDrops: Number(dstVf.fifoDrops),
      },
    };
  } finally {
    client?.close();
    await src.stop();
    await dst.stop();
    fabric.destroy();
    await a.close();
    await b.close();
    rmSync(mon, { force: true });
  }
}
