// The traffic scenario the live-migration suites share, on a HostPair:
//
//   host A: txgen (VF0) ──switch A──▶ rxsink (VF1, --monitor)      ← the guest that moves
//   host B: VF0 (given VF1's MAC, as libvirt sets a VF's MAC on the destination) ← --incoming
//
// While the rxsink runs on A its frames never leave NIC A (VF→VF loopback, lossless: a
// sealed/quiesced receiver stalls the sender). Once it moved, NIC A no longer owns that
// MAC, so txgen's frames leave by A's TAP, cross bridge A, the veth and bridge B, and enter
// NIC B by its TAP: the traffic crosses both bridges after the move. The rxsink counts
// every frame of both streams (lost, duplicated, reordered, corrupted) in its guest RAM, so
// its accounting moves with it. txgen stops by count once its TX ring drained; the rxsink
// has no count (a guest also receives the segment's broadcasts, e.g. the ARP request the
// migration connection itself causes, which it counts as untagged frames): the test stops
// it once it has every tagged frame, and a missing frame is a bounded wait that fails.
import { spawnSync } from 'node:child_process';
import type { GuestProcess } from '../../../mediator/guest/guest-process.js';
import { vfmedRun, type Run } from './daemon-proc.js';
import { HostPair, waitLine, lastCounter, type Host, type HostConfig } from './hosts.js';

export const MAC_A = '02:76:66:6d:0a:00';
export const MAC_B = '02:76:66:6d:0b:00';
/** the moving guest's MAC: VF1 of A, VF0 of B */
export const GUEST_MAC = '02:76:66:6d:0a:01';
export const MIG_PORT = 4444;

/**
 * Both NICs get a 4 MiB RX FIFO per VF (default 64 KiB), the same on both sides (a
 * different one is an incompatible device). Why: while the guest is stopped (downtime, and
 * the --verify-ram hashing, ~1.5 s here) txgen is held back by VF-to-VF back-pressure, and
 * afterwards its pacing catches up at full speed. That burst reaches NIC B by its uplink,
 * where delivery is lossy like a real port's (a full FIFO drops and counts), so the FIFO
 * must hold it: rate × stall × ~150 bytes, about 1 MB at 4000 frames/s and 1.5 s.
 */
export const RX_FIFO_BYTES = 4 << 20;

export function hostConfigs(b: Partial<HostConfig> = {}): { a: HostConfig; b: HostConfig } {
  return {
    a: { vfs: 2, baseMac: MAC_A, nic: { rxFifoBytes: RX_FIFO_BYTES } },
    b: { vfs: 1, baseMac: MAC_B, macs: { '0': GUEST_MAC }, nic: { rxFifoBytes: RX_FIFO_BYTES }, ...b },
  };
}

export interface TrafficOptions {
  /** guest RAM of the moving rxsink, bytes */
  ram: number;
  /** frames txgen sends (and rxsink expects) */
  count: number;
  /** txgen pacing, frames/s */
  rate: number;
  /** extra rxsink options (both sides) */
  rxExtra?: string[];
}

export interface Traffic {
  tx: GuestProcess;
  rx: GuestProcess;
  /** the rxsink's monitor socket */
  monitor: string;
  /** the workload options a destination must repeat (QEMU's "same command line") */
  rxWorkload: string[];
  opts: TrafficOptions;
}

const STATS_MS = '100';

export function rxsinkArgs(o: TrafficOptions): string[] {
  return ['rxsink', '--ram', String(o.ram), '--ram-fill', 'random', '--streams', '2',
    '--seq-from-zero', '--strict', '--stats-interval', STATS_MS, ...(o.rxExtra ?? [])];
}

/** rxsink on A's VF1 with a monitor, then txgen on A's VF0 to it; returns once frames arrive. */
export async function startTraffic(pair: HostPair, o: TrafficOptions): Promise<Traffic> {
  const monitor = pair.a.monitorPath('rxsink');
  const rxWorkload = rxsinkArgs(o);
  const rx = pair.a.guest('rxsink', [...rxWorkload, '--socket', pair.a.vfSocket(1), '--monitor', monitor]);
  await rx.waitFor('init', 30_000);
  const tx = pair.a.guest('txgen', ['txgen', '--socket', pair.a.vfSocket(0), '--dst', GUEST_MAC, '--rate', String(o.rate),
    '--count', String(o.count), '--streams', '2', '--size', '128', '--stats-interval', STATS_MS]);
  await tx.waitFor('init', 30_000);
  await waitLine(rx, (l) => l.type === 'stats' && (l['rx_tagged'] as number) >= Math.min(1000, o.count / 4),
    'the first 1000 frames at the rxsink', 20_000);
  return { tx, rx, monitor, rxWorkload, opts: o };
}

/** Polls `ss` inside the host's namespace until something listens on `port` (bounded). */
export async function waitListening(h: Host, port: number, g: GuestProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void g.exited.then(() => (exited = true));
  for (;;) {
    const r = spawnSync('ip', ['netns', 'exec', h.ns, 'ss', '-Hltn', `sport = :${port}`], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim()) return;
    if (exited) {
      const ex = await g.exited;
      throw new Error(`${g.name} exited (${ex.code ?? ex.signal}) before listening on ${port}: ${ex.stderr.split('\n').slice(-3).join(' | ')}`);
    }
    if (Date.now() > deadline) throw new Error(`nothing listens on ${h.ip}:${port} in ${h.ns} after ${timeoutMs} ms`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

/** The destination runner: same workload, B's VF0, `--incoming tcp:B:port`; waits until it listens. */
export async function startIncoming(pair: HostPair, workload: string[], port = MIG_PORT, vf = 0): Promise<GuestProcess> {
  const g = pair.b.guest('incoming', [...workload, '--socket', pair.b.vfSocket(vf), '--incoming', `tcp:${pair.b.ip}:${port}`]);
  await waitListening(pair.b, port, g);
  return g;
}

export interface MigrateResult {
  run: Run;
  /** every JSON object `vfmed migrate --json` printed */
  lines: Array<Record<string, unknown>>;
  /** the completed or failed event */
  outcome: Record<string, unknown> | undefined;
  /** the command's own summary object (`result`: completed | failed), printed last */
  summary: Record<string, unknown> | undefined;
}

/** `vfmed migrate --guest MONITOR --to TO --json args...`, to its end (bounded). */
export async function vfmedMigrate(monitor: string, to: string, args: string[] = [], timeoutMs = 90_000): Promise<MigrateResult> {
  const run = await vfmedRun(['migrate', '--guest', monitor, '--to', to, '--json', ...args], timeoutMs);
  return { run, ...parseJsonLines(run.stdout) };
}

export function parseJsonLines(out: string): Omit<MigrateResult, 'run'> {
  const lines: Array<Record<string, unknown>> = [];
  for (const t of out.split('\n')) {
    if (!t.trim()) continue;
    try {
      const v = JSON.parse(t) as unknown;
      if (v && typeof v === 'object' && !Array.isArray(v)) lines.push(v as Record<string, unknown>);
    } catch { /* a human line */ }
  }
  const outcome = [...lines].reverse().find((l) => l['event'] === 'completed' || l['event'] === 'failed');
  const summary = [...lines].reverse().find((l) => typeof l['result'] === 'string');
  return { lines, outcome, summary };
}

export function describeRun(r: Run): string {
  return `exit ${r.code ?? r.signal}; stdout: ${r.stdout.slice(-1500)}; stderr: ${r.stderr.slice(-1500)}`;
}

/**
 * The rxsink got every tagged frame exactly once: waits (bounded) until its stats show
 * `count` tagged frames, stops it, and checks its summary (--strict: exit 0 only without
 * loss, duplicates, reordering, corruption).
 */
export async function expectExactlyOnce(g: GuestProcess, count: number, timeoutMs = 60_000): Promise<Record<string, unknown>> {
  let waitErr: Error | null = null;
  try {
    await waitLine(g, (l) => l.type === 'stats' && (l['rx_tagged'] as number) >= count, `${count} tagged frames`, timeoutMs);
  } catch (e) {
    waitErr = e as Error;
  }
  g.kill('SIGTERM');
  const ex = await g.finish(10_000);
  const s = ex.summary;
  if (!s) throw new Error(`${g.name} printed no summary (exit ${ex.code ?? ex.signal}): ${ex.stderr.slice(-800)}`);
  const got = {
    code: ex.code, rx_tagged: s['rx_tagged'], rx_lost: s['rx_lost'], rx_duplicated: s['rx_duplicated'],
    rx_reordered: s['rx_reordered'], rx_stale: s['rx_stale'], rx_corrupted: s['rx_corrupted'],
  };
  const want = { code: 0, rx_tagged: count, rx_lost: 0, rx_duplicated: 0, rx_reordered: 0, rx_stale: 0, rx_corrupted: 0 };
  if (JSON.stringify(got) !== JSON.stringify(want)) {
    throw new Error(`${g.name}: expected every frame exactly once: ${JSON.stringify(got)}`
      + `${waitErr ? ` (${waitErr.message})` : ''} (stderr: ${ex.stderr.slice(-400)})`);
  }
  return s;
}

/** txgen's end: all frames generated and drained, exit 0. */
export async function expectSent(g: GuestProcess, count: number, timeoutMs = 60_000): Promise<Record<string, unknown>> {
  const ex = await g.finish(timeoutMs);
  const s = ex.summary;
  if (ex.code !== 0 || !s || s['reason'] !== 'count' || s['tx_packets'] !== count || s['tx_undrained'] !== 0) {
    throw new Error(`${g.name}: expected ${count} frames sent and drained: exit ${ex.code ?? ex.signal}, `
      + `${JSON.stringify(s && { reason: s['reason'], tx_packets: s['tx_packets'], tx_undrained: s['tx_undrained'] })}`
      + ` ${ex.stderr.slice(-400)}`);
  }
  return s;
}

/** Fails (with the fix) when the traffic ended before the migration event it must overlap. */
export function expectTrafficStillRunning(rx: GuestProcess, count: number, when: string): void {
  const got = lastCounter(rx, 'rx_tagged');
  if (got >= count) {
    throw new Error(`the traffic had ended (${got}/${count} frames) before ${when}: the scenario proves nothing; raise count`);
  }
}
