/**
 * What `vfmed migrate` prints at the end: the summary object of a finished migration
 * (the last line of --json) and its tables for a terminal (cli-table3): totals, downtime
 * against the limit, bytes per round, pages per tracker (the runner's CPU tracking vs the
 * device's dirty report), bytes sent as a multiple of guest RAM, and the guest's frame
 * accounting across the move.
 */
import Table from 'cli-table3';
import type { CompletedEvent, FailedEvent } from '../guest/monitor-protocol.js';

export interface MigrationSummary {
  result: 'completed' | 'failed';
  to: string;
  tracker?: string;
  total_ms?: number;
  setup_ms?: number;
  downtime_ms?: number;
  downtime_limit_ms: number;
  rounds?: number;
  ram_bytes?: number;
  bytes_sent?: number;
  device_bytes?: number;
  /** bytes_sent / ram_bytes */
  ram_multiple?: number;
  pages_cpu?: number;
  pages_device?: number;
  ram_verified?: boolean;
  verify_ms?: number | null;
  frames?: { rx: number; lost: number; duplicated: number; reordered: number } | null;
  error?: string;
  stage?: string;
  source_running?: boolean;
}

export function completedSummary(e: CompletedEvent, to: string, downtimeLimitMs: number): MigrationSummary {
  const sum = (k: 'pages_cpu' | 'pages_device') => e.rounds.reduce((a, r) => a + r[k], 0);
  return {
    result: 'completed', to, tracker: e.tracker, total_ms: e.total_ms, setup_ms: e.setup_ms, downtime_ms: e.downtime_ms,
    downtime_limit_ms: downtimeLimitMs, rounds: e.rounds.length, ram_bytes: e.ram_bytes, bytes_sent: e.bytes_sent,
    device_bytes: e.device_bytes, ram_multiple: e.ram_bytes > 0 ? e.bytes_sent / e.ram_bytes : 0,
    pages_cpu: sum('pages_cpu'), pages_device: sum('pages_device'),
    ram_verified: e.ram_digest !== null, verify_ms: e.verify_ms,
    frames: e.guest ? { rx: e.guest.rx_frames, lost: e.guest.lost, duplicated: e.guest.duplicated, reordered: e.guest.reordered } : null,
  };
}

export function failedSummary(e: FailedEvent, to: string, downtimeLimitMs: number): MigrationSummary {
  return { result: 'failed', to, downtime_limit_ms: downtimeLimitMs, error: e.error, stage: e.stage, source_running: e.source_running };
}

export function fmtBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n, u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${units[u]}`;
}

export function fmtMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms * 10) / 10} ms`;
}

const plain = { style: { head: [] as string[], border: [] as string[] } };

/** The tables of a completed migration. */
export function renderCompleted(e: CompletedEvent, s: MigrationSummary): string {
  const totals = new Table({ ...plain });
  totals.push(
    { 'migrated to': s.to },
    { 'total time': `${fmtMs(e.total_ms)} (setup ${fmtMs(e.setup_ms)})` },
    { downtime: `${fmtMs(e.downtime_ms)} (limit ${fmtMs(s.downtime_limit_ms)}${e.downtime_ms > s.downtime_limit_ms ? ', EXCEEDED' : ''}; includes one network round trip)` },
    { 'dirty tracker': e.tracker },
    { 'guest RAM': fmtBytes(e.ram_bytes) },
    { 'bytes sent': `${fmtBytes(e.bytes_sent)} = ${(s.ram_multiple ?? 0).toFixed(2)} x RAM (device state ${fmtBytes(e.device_bytes)})` },
    { 'pages by tracker': `CPU ${s.pages_cpu}, device ${s.pages_device}` },
    { 'RAM verified': e.ram_digest !== null ? `yes (digest ${e.ram_digest.slice(0, 16)}, ${fmtMs(e.verify_ms ?? 0)}, not in downtime)` : 'no (--verify-ram)' },
    { 'guest frames': e.guest
      ? `${e.guest.rx_frames} received, ${e.guest.lost} lost, ${e.guest.duplicated} duplicated, ${e.guest.reordered} reordered`
      : 'not reported by the workload' },
  );
  const rounds = new Table({ ...plain, head: ['round', 'pages', 'CPU-dirty', 'device-dirty', 'bytes', 'time'] });
  for (const r of e.rounds) {
    rounds.push([r.round, r.pages, r.pages_cpu, r.pages_device, fmtBytes(r.bytes), fmtMs(r.ms)].map(String));
  }
  return `migration completed\n${totals.toString()}\n${rounds.toString()}\n`;
}
