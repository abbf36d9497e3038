// The daemon as a user runs it, for the end-to-end suites: `vfmed start` in its own
// process (dist/mediator/cli/main.js) on a fresh run directory, the other `vfmed`
// commands as separate processes, guest runners as real vfmed-guest processes. Nothing
// here reaches into the daemon's memory: what a test knows, it learned from a socket, a
// file or a process's output.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../../mediator/native/addon.js';
import { callDaemon } from '../../../mediator/daemon/control-client.js';
import type { DaemonStatus } from '../../../mediator/daemon/status.js';

export const cliMain = join(repoRoot(), 'dist', 'mediator', 'cli', 'main.js');

export interface Run { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** Runs `vfmed args...` to completion (bounded). */
export function vfmedRun(args: string[], timeoutMs = 60_000): Promise<Run> {
  if (!existsSync(cliMain)) throw new Error(`${cliMain} missing: run "npm run build" first`);
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [cliMain, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
    c.on('error', reject);
    c.on('close', (code, signal) => {
      clearTimeout(t);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Runs `vfmed ...` and returns stdout, throwing with stderr when it fails. */
export async function vfmedOk(args: string[], timeoutMs?: number): Promise<string> {
  const r = await vfmedRun(args, timeoutMs);
  if (r.code !== 0) throw new Error(`vfmed ${args.join(' ')} exited ${r.code ?? r.signal}: ${r.stderr.trim()}`);
  return r.stdout;
}

export class DaemonProc {
  readonly runDir: string;
  readonly logFile: string;
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr = '';

  private constructor(runDir: string, args: string[], via: readonly string[]) {
    this.runDir = runDir;
    this.logFile = join(runDir, 'daemon.log');
    const argv = [process.execPath, cliMain, 'start', '--run-dir', runDir, '--log-file', this.logFile, ...args];
    const [cmd, ...rest] = [...via, ...argv];
    this.child = spawn(cmd!, rest, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => this.child.on('close', (code, signal) => resolve({ code, signal })));
  }

  /**
   * Starts `vfmed start --run-dir <fresh dir> args...` and waits until it answers. `via` is
   * a command prefix that must exec the daemon in place (e.g. `ip netns exec NS`), so the
   * child's pid stays the daemon's.
   */
  static async start(args: string[] = [], name = 'e2e', via: readonly string[] = []): Promise<DaemonProc> {
    const dir = mkdtempSync(join(tmpdir(), `vfmed-${name}-`));
    const d = new DaemonProc(join(dir, 'run'), args, via);
    let gone = false;
    void d.exited.then(() => (gone = true));
    for (let i = 0; i < 300; i++) {
      if (gone) {
        rmSync(dir, { recursive: true, force: true });
        throw new Error(`vfmed start exited during start-up: ${d.stderr.trim()}`);
      }
      try {
        await callDaemon(d.control, 'hello', {}, { timeoutMs: 1000 });
        return d;
      } catch { /* not yet */ }
      await new Promise((r) => setTimeout(r, 50));
    }
    d.child.kill('SIGKILL');
    await d.exited;
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`vfmed start did not answer within 15 s: ${d.stderr.trim()}`);
  }

  get control(): string {
    return join(this.runDir, 'control.sock');
  }

  get dirArgs(): string[] {
    return ['--run-dir', this.runDir];
  }

  status(): Promise<DaemonStatus> {
    return callDaemon<DaemonStatus>(this.control, 'status');
  }

  log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
  }

  /** SIGTERM and wait (SIGKILL after the bound); removes the temporary directory. */
  async stop(timeoutMs = 15_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const r = await this.exited;
    clearTimeout(t);
    return r;
  }

  cleanup(): void {
    rmSync(join(this.runDir, '..'), { recursive: true, force: true });
  }
}
