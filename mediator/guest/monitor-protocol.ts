/**
 * The guest runner's monitor protocol (docs/live-migration.md, "Monitor protocol"): the
 * requests `vfmed migrate` sends and the checked shapes of what the runner sends back.
 * One JSON object per line, UTF-8, a line at most 64 KiB. Everything from the runner is
 * validated here before anything uses it, so a runner that misbehaves gets a clear
 * MonitorProtocolError naming what was wrong, never a TypeError further down.
 *
 *   runner line ──parseMonitorLine──▶ { kind: 'reply',  reply }      (has "ok")
 *                                     { kind: 'event',  event }      (has "event")
 *                                     { kind: 'error',  message }    (has "error" only: the
 *                                                                     runner refused our line)
 */
import { VfmedError } from '../errors.js';

/** Longest line either side may send (bytes, without the newline). */
export const MONITOR_MAX_LINE = 64 * 1024;

export type DirtyTracking = 'tail-trap' | 'device-log' | 'all';

export interface MigrateArgs {
  to: string;
  downtime_limit_ms?: number;
  max_bandwidth?: number;
  dirty_tracking?: DirtyTracking;
  max_rounds?: number;
  verify_ram?: boolean;
  timeout_ms?: number;
}

export type MonitorRequest =
  | ({ cmd: 'migrate' } & MigrateArgs)
  | { cmd: 'migrate-cancel' }
  | { cmd: 'query-migrate' };

export interface MonitorReply {
  id?: number;
  ok: boolean;
  error?: string;
  [k: string]: unknown;
}

export interface PhaseEvent { event: 'migration'; phase: string }

export interface ProgressEvent {
  event: 'progress';
  round: number;
  ram_bytes: number;
  ram_remaining_bytes: number;
  pages_cpu: number;
  pages_device: number;
  pages_sent: number;
  bytes_sent: number;
  round_ms: number;
  dirty_rate_pps: number;
  bandwidth_bps: number;
  expected_downtime_ms: number;
}

export interface RoundReport { round: number; pages: number; pages_cpu: number; pages_device: number; bytes: number; ms: number }

export interface CompletedEvent {
  event: 'completed';
  tracker: string;
  total_ms: number;
  downtime_ms: number;
  setup_ms: number;
  rounds: RoundReport[];
  ram_bytes: number;
  bytes_sent: number;
  device_bytes: number;
  ram_digest: string | null;
  verify_ms: number | null;
  guest: { rx_frames: number; lost: number; duplicated: number; reordered: number } | null;
}

export interface FailedEvent { event: 'failed'; error: string; stage: string; source_running: boolean }

/** An event this client does not know: passed on (--json), otherwise ignored. */
export interface OtherEvent { event: string; [k: string]: unknown }

export type MonitorEvent = PhaseEvent | ProgressEvent | CompletedEvent | FailedEvent | OtherEvent;

export type MonitorMessage =
  | { kind: 'reply'; reply: MonitorReply }
  | { kind: 'event'; event: MonitorEvent; raw: Record<string, unknown> }
  | { kind: 'error'; message: string };

export class MonitorProtocolError extends VfmedError {
  constructor(message: string) {
    super('VFMED_ERR_MONITOR', message);
  }
}

const bad = (msg: string) => new MonitorProtocolError(msg);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A finite, non-negative number (counts, bytes, milliseconds, rates). */
function num(o: Record<string, unknown>, key: string, what: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw bad(`${what}: "${key}" is ${JSON.stringify(v) ?? 'missing'}, not a number >= 0`);
  return v;
}

function str(o: Record<string, unknown>, key: string, what: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw bad(`${what}: "${key}" is ${JSON.stringify(v) ?? 'missing'}, not a string`);
  return v;
}

const PROGRESS_FIELDS = ['round', 'ram_bytes', 'ram_remaining_bytes', 'pages_cpu', 'pages_device', 'pages_sent', 'bytes_sent',
  'round_ms', 'dirty_rate_pps', 'bandwidth_bps', 'expected_downtime_ms'] as const;
const ROUND_FIELDS = ['round', 'pages', 'pages_cpu', 'pages_device', 'bytes', 'ms'] as const;

function checkEvent(o: Record<string, unknown>): MonitorEvent {
  const name = o['event'];
  if (typeof name !== 'string') throw bad('"event" is not a string');
  switch (name) {
    case 'migration':
      str(o, 'phase', 'migration event');
      return o as unknown as PhaseEvent;
    case 'progress':
      for (const k of PROGRESS_FIELDS) num(o, k, 'progress event');
      return o as unknown as ProgressEvent;
    case 'completed': {
      const what = 'completed event';
      str(o, 'tracker', what);
      for (const k of ['total_ms', 'downtime_ms', 'setup_ms', 'ram_bytes', 'bytes_sent', 'device_bytes'] as const) num(o, k, what);
      const rounds = o['rounds'];
      if (!Array.isArray(rounds)) throw bad(`${what}: "rounds" is not an array`);
      rounds.forEach((r, i) => {
        if (!isObject(r)) throw bad(`${what}: rounds[${i}] is not an object`);
        for (const k of ROUND_FIELDS) num(r, k, `${what} rounds[${i}]`);
      });
      if (o['ram_digest'] !== null && o['ram_digest'] !== undefined && typeof o['ram_digest'] !== 'string') throw bad(`${what}: "ram_digest" is neither a string nor null`);
      if (o['verify_ms'] !== null && o['verify_ms'] !== undefined) num(o, 'verify_ms', what);
      const g = o['guest'];
      if (g !== null && g !== undefined) {
        if (!isObject(g)) throw bad(`${what}: "guest" is not an object`);
        for (const k of ['rx_frames', 'lost', 'duplicated', 'reordered'] as const) num(g, k, `${what} guest`);
      }
      return { ram_digest: null, verify_ms: null, guest: null, ...o } as unknown as CompletedEvent;
    }
    case 'failed':
      str(o, 'error', 'failed event');
      if (o['stage'] !== undefined) str(o, 'stage', 'failed event');
      if (o['source_running'] !== undefined && typeof o['source_running'] !== 'boolean') throw bad('failed event: "source_running" is not a boolean');
      return { stage: 'unknown', source_running: false, ...o } as unknown as FailedEvent;
    default:
      return o as OtherEvent;
  }
}

/** Checks one line from the runner (without its newline). Throws MonitorProtocolError. */
export function parseMonitorLine(line: string): MonitorMessage {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch (e) {
    throw bad(`not JSON (${(e as Error).message}): ${preview(line)}`);
  }
  if (!isObject(o)) throw bad(`not a JSON object: ${preview(line)}`);
  if ('event' in o) return { kind: 'event', event: checkEvent(o), raw: o };
  if ('ok' in o) {
    if (typeof o['ok'] !== 'boolean') throw bad(`reply: "ok" is not a boolean: ${preview(line)}`);
    if (o['id'] !== undefined && (typeof o['id'] !== 'number' || !Number.isSafeInteger(o['id']))) throw bad(`reply: "id" is not an integer: ${preview(line)}`);
    if (!o['ok'] && typeof o['error'] !== 'string') throw bad(`refusal without an "error" string: ${preview(line)}`);
    return { kind: 'reply', reply: o as MonitorReply };
  }
  if (typeof o['error'] === 'string') return { kind: 'error', message: o['error'] };
  throw bad(`neither a reply ("ok") nor an event ("event"): ${preview(line)}`);
}

/** The start of a line for an error message (one line, bounded). */
export function preview(line: string, max = 80): string {
  const s = line.replace(/[\x00-\x1f\x7f]/g, '?');
  return s.length > max ? `${s.slice(0, max)}...` : s;
}
