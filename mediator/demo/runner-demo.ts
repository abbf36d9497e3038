/**
 * `vfmed demo`: the embedded default, end to end through real processes.
 *
 *   daemon (this process): emulated NIC, PF driver (libvfpf) with 2 VFs, one vfio-user
 *                          socket per VF, PF mailbox service on its event fd
 *   guest runner A on VF0: loopback — tagged frames to VF1's MAC, verifies every one that
 *                          comes back (sequence + CRC-32 trailer)
 *   guest runner B on VF1: fwd — sends every frame back to its sender (MAC swap)
 *
 *   A ──TX──▶ VF0 ──switch──▶ VF1 ──RX──▶ B ──TX──▶ VF1 ──switch──▶ VF0 ──RX──▶ A
 *
 * Each runner is a separate vfmed-guest process playing VMM + guest: vfio-user client,
 * guest RAM shared by DMA_MAP, BAR0 pages 0-1 trapped (SIGSEGV → REGION_READ/WRITE) and
 * pages 2-3 mapped (passthrough doorbells), an igbvf-style poll-mode driver. The result
 * joins what the runners counted with what the device, the PF driver and the server saw;
 * `ok` needs all of them to agree that every frame made the round trip exactly once,
 * intact and in order, and that no doorbell went through the trap path.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { resolveConfig } from '../daemon/config.js';
import { Daemon } from '../daemon/daemon.js';
import type { VfStatus } from '../daemon/status.js';
import { GuestProcess, type GuestExit, type GuestLine } from '../guest/guest-process.js';
import type { PfVfStats } from '../pf/pf-driver.js';

export const RUNNER_DEMO_VFS = 2;

export interface RunnerDemoOptions {
  frames: number;
  /** frame length without FCS, 60..1514 */
  size: number;
  log: Logger;
}

export interface GuestReport {
  vf: number;
  mac: string;
  workload: string;
  pid: number | null;
  exitCode: number | null;
  sent: number;
  received: number;
  forwarded: number;
  lost: number;
  duplicated: number;
  reordered: number;
  corrupted: number;
  untagged: number;
  mmioReads: number;
  mmioWrites: number;
  elapsedMs: number;
  bar0MappedPages: number[];
  error: string | null;
}

export interface RunnerDemoResult {
  ok: boolean;
  frames: number;
  frameBytes: number;
  elapsedMs: number;
  guests: GuestReport[];
  vfs: Array<VfStatus & { pf: PfVfStats }>;
  uplinkFrames: number;
  problems: string[];
}

const n = (v: unknown): number => (typeof v === 'number' ? v : 0);

function report(vf: number, mac: string, g: GuestProcess, exit: GuestExit): GuestReport {
  const s: GuestLine = exit.summary ?? { type: 'none' };
  const init = g.lines.find((l) => l.type === 'init');
  const streams = Array.isArray(s['streams']) ? s['streams'] as Array<Record<string, number>> : [];
  return {
    vf, mac,
    workload: typeof s['workload'] === 'string' ? s['workload'] : g.args[0] ?? '?',
    pid: g.pid ?? null,
    exitCode: exit.code,
    sent: streams.reduce((a, x) => a + (x['sent'] ?? 0), 0),
    received: n(s['rx_tagged']),
    forwarded: n(s['fwd_frames']),
    lost: n(s['rx_lost']),
    duplicated: n(s['rx_duplicated']),
    reordered: n(s['rx_reordered']),
    corrupted: n(s['rx_corrupted']),
    untagged: n(s['rx_untagged']),
    mmioReads: n(s['mmio_reads']),
    mmioWrites: n(s['mmio_writes']),
    elapsedMs: n(s['elapsed_ms']),
    bar0MappedPages: Array.isArray(init?.['bar0_mapped_pages']) ? init['bar0_mapped_pages'] as number[] : [],
    error: exit.code === 0 ? null : (exit.stderr.split('\n').pop() || `exit ${exit.code ?? exit.signal}`),
  };
}

export async function runRunnerDemo(opts: RunnerDemoOptions): Promise<RunnerDemoResult> {
  const { frames, size, log } = opts;
  const runDir = mkdtempSync(join(tmpdir(), 'vfmed-demo-'));
  const config = resolveConfig({ runDir, vfs: RUNNER_DEMO_VFS, nic: { maxVfs: RUNNER_DEMO_VFS } });
  const budgetMs = 30_000 + Math.ceil(frames / 50_000) * 1000;
  let daemon: Daemon | null = null;
  const guests: GuestProcess[] = [];
  try {
    daemon = await Daemon.start({ config, log, noControl: true });
    const [vf0, vf1] = daemon.vfs.bound as [typeof daemon.vfs.bound[number], typeof daemon.vfs.bound[number]];
    const t0 = process.hrtime.bigint();
    // The forwarder first: frames sent to a VF whose RX ring is not up yet are dropped by
    // the switch (no receive queue), so A starts once B's driver is up.
    const fwd = GuestProcess.spawn('guest B (vf1, fwd)', ['fwd', '--socket', vf1.socket, '-n', String(frames),
      '--stats-interval', '0']);
    guests.push(fwd);
    await fwd.waitFor('init', 15_000);
    const lb = GuestProcess.spawn('guest A (vf0, loopback)', ['loopback', '--socket', vf0.socket, '--dst', vf1.mac,
      '-n', String(frames), '--size', String(size), '--strict', '--stats-interval', '0']);
    guests.push(lb);
    log.info({ frames, size, a: lb.pid, b: fwd.pid }, 'demo: guest runners started');
    const [ea, eb] = await Promise.all([lb.finish(budgetMs), fwd.finish(budgetMs)]);
    const elapsedMs = Number(process.hrtime.bigint() - t0) / 1e6;

    const st = daemon.status();
    const vfs = st.vfs.map((v) => ({ ...v, pf: daemon!.pf.vfStats(v.vf) }));
    const ga = report(0, vf0.mac, lb, ea);
    const gb = report(1, vf1.mac, fwd, eb);
    const problems: string[] = [];
    const want = (cond: boolean, msg: string): void => {
      if (!cond) problems.push(msg);
    };
    want(ga.exitCode === 0, `guest A (loopback) failed: ${ga.error ?? ''}`);
    want(gb.exitCode === 0, `guest B (fwd) failed: ${gb.error ?? ''}`);
    want(ga.sent === frames, `guest A sent ${ga.sent} frames, not ${frames}`);
    want(ga.received === frames, `guest A got ${ga.received} of its ${frames} frames back`);
    want(ga.lost + ga.duplicated + ga.reordered + ga.corrupted + ga.untagged === 0,
      `guest A: ${ga.lost} lost, ${ga.duplicated} duplicated, ${ga.reordered} reordered, ${ga.corrupted} corrupted, ${ga.untagged} untagged`);
    want(gb.forwarded === frames, `guest B forwarded ${gb.forwarded} frames, not ${frames}`);
    for (const v of vfs) {
      want(v.tx.packets === frames && v.rx.packets === frames,
        `VF${v.vf}: the device counted ${v.tx.packets} TX / ${v.rx.packets} RX packets, not ${frames} each`);
      want(v.rx.fifoDrops === 0 && v.dmaErrors === 0 && v.tx.errors === 0,
        `VF${v.vf}: ${v.rx.fifoDrops} FIFO drops, ${v.dmaErrors} DMA errors, ${v.tx.errors} TX errors`);
      want(Number(v.pf.txPackets) === frames && Number(v.pf.rxPackets) === frames,
        `VF${v.vf}: the PF driver's VF_STATS says ${v.pf.txPackets} TX / ${v.pf.rxPackets} RX`);
      const q = v.trapped.bar0;
      want(q.reads[2]! + q.reads[3]! + q.writes[2]! + q.writes[3]! === 0,
        `VF${v.vf}: ${q.writes[2]! + q.writes[3]!} queue-page accesses went through the trap path (expected passthrough)`);
    }
    want(st.uplink.egress.frames === 0, `${st.uplink.egress.frames} frames left through the uplink (VF to VF traffic must not)`);
    return {
      ok: problems.length === 0, frames, frameBytes: size, elapsedMs, guests: [ga, gb], vfs,
      uplinkFrames: st.uplink.egress.frames, problems,
    };
  } finally {
    for (const g of guests) g.kill('SIGKILL');
    await Promise.all(guests.map((g) => g.exited));
    await daemon?.stop();
    rmSync(runDir, { recursive: true, force: true });
  }
}
