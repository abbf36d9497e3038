/**
 * Test harness for vfmed-guest: runs the built binary (build/Release/vfmed-guest, from
 * `npm install`) against the fake vfio-user server of this folder and collects both sides:
 * the guest's JSON lines, exit status and stderr, and the server's report (every message
 * the client sent, checked against the vfio-user specification, plus what its device model
 * saw on the "wire").
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { nativeBuildDir } from '../../mediator/native/addon.js';

const here = dirname(fileURLToPath(import.meta.url));
export const serverScript = join(here, 'fake-vfio-user-server.py');

/** Path of the guest runner; throws with the fix when it was not built. */
export function guestBinary(): string {
  const bin = join(nativeBuildDir(), 'vfmed-guest');
  if (!existsSync(bin)) {
    throw new Error(`vfmed-guest not built (${bin} missing): run "npm install" (node-gyp builds it)`);
  }
  return bin;
}

export interface ProcResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A JSON line of the guest's stdout. */
export type GuestLine = Record<string, unknown> & { type: string };

export function jsonLines(stdout: string): GuestLine[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as GuestLine);
}

export function lineOf(lines: GuestLine[], type: string): GuestLine {
  const l = lines.find((x) => x.type === type);
  if (!l) throw new Error(`no "${type}" line in the guest output`);
  return l;
}

export function run(cmd: string, args: string[], opts: { timeoutMs?: number; killAfterMs?: number } = {}): Promise<ProcResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const hard = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 45_000);
    const soft = opts.killAfterMs !== undefined ? setTimeout(() => child.kill('SIGTERM'), opts.killAfterMs) : undefined;
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(hard);
      if (soft) clearTimeout(soft);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export function runGuest(args: string[], opts: { timeoutMs?: number; killAfterMs?: number } = {}): Promise<ProcResult> {
  return run(guestBinary(), args, opts);
}

/** What the fake server reports (see fake-vfio-user-server.py, Server.report). */
export interface ServerReport {
  violations: string[];
  commands: string[];
  region_reads: number;
  region_writes: number;
  mailbox: Array<{ request?: number; reply?: number; words?: number[]; vf_ack?: boolean }>;
  vf_resets: number;
  eimc: number | null;
  eiac: number | null;
  config_command: number;
  tx_frames: Array<{ len: number; dst: string; src: string; ethertype: string; stream?: number; seq?: number; tag_ok?: boolean; hex?: string }>;
  tx_count: number;
  rx_delivered: number;
  rx_pending: number;
  trapped_tdt_writes: number;
  layout_queries: number;
  dma_maps_left: number;
  queue_regs: Record<string, number>;
  mac: string;
  [key: string]: unknown;
}

export interface Session {
  guest: ProcResult;
  lines: GuestLine[];
  report: ServerReport;
  server: ProcResult;
}

/**
 * Starts the fake server with serverArgs, runs the guest workload against it and returns
 * both sides. guestArgs are appended after `<workload> --socket PATH`.
 */
export async function session(
  workload: string,
  guestArgs: string[],
  serverArgs: string[] = [],
  opts: { killAfterMs?: number } = {},
): Promise<Session> {
  const dir = mkdtempSync(join(tmpdir(), 'vfmed-guest-'));
  const sock = join(dir, 'vf0.sock');
  const reportPath = join(dir, 'report.json');
  try {
    const server = run('python3', [serverScript, '--socket', sock, '--report', reportPath, '--timeout', '40', ...serverArgs]);
    const guest = await runGuest([workload, '--socket', sock, '--stats-interval', '0', ...guestArgs], opts);
    const srv = await server;
    if (!existsSync(reportPath)) {
      throw new Error(`fake server wrote no report (exit ${srv.code}): ${srv.stderr}`);
    }
    const report = JSON.parse(readFileSync(reportPath, 'utf8')) as ServerReport;
    let lines: GuestLine[] = [];
    try {
      lines = jsonLines(guest.stdout);
    } catch (e) {
      throw new Error(`guest stdout is not JSON lines: ${(e as Error).message}\n${guest.stdout}`);
    }
    return { guest, lines, report, server: srv };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'vfmed-guest-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
