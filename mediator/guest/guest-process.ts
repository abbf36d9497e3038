/**
 * Running the guest runner (build/Release/vfmed-guest, native/guest/README.md) as a child
 * process and reading its JSON lines (init, bar_layout, stats, summary): for the demo, the
 * benchmark trials and the end-to-end tests, which all drive real guest processes against
 * a daemon's vfio-user sockets.
 *
 *   spawn ─▶ lines… ─▶ waitFor('init') (device up, link up, rings posted) ─▶ … ─▶ exited
 *                                                                   { code, summary, stderr }
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { nativeBuildDir } from '../native/addon.js';

/** One JSON line of the guest's stdout. */
export type GuestLine = Record<string, unknown> & { type: string };

export interface GuestExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  summary: GuestLine | null;
  /** the last lines of stderr (bounded) */
  stderr: string;
}

export function guestBinaryPath(): string {
  const bin = join(nativeBuildDir(), 'vfmed-guest');
  if (!existsSync(bin)) throw new Error(`vfmed-guest is not built (${bin} missing): run "npm install"`);
  return bin;
}

const STDERR_KEEP = 8192;

export interface GuestSpawnOptions {
  env?: NodeJS.ProcessEnv;
  /** command that runs the guest runner with the args appended, e.g. [node, main.js,
   * 'guest'] for `vfmed guest`; default the vfmed-guest binary itself */
  via?: string[];
}

export class GuestProcess {
  readonly name: string;
  readonly args: readonly string[];
  readonly lines: GuestLine[] = [];
  readonly exited: Promise<GuestExit>;
  readonly #child: ChildProcess;
  readonly #waiters: Array<{ type: string; resolve: (l: GuestLine) => void; reject: (e: Error) => void }> = [];
  #stderr = '';
  #exit: GuestExit | null = null;

  private constructor(name: string, args: string[], opts: GuestSpawnOptions) {
    this.name = name;
    this.args = args;
    const [cmd, ...pre] = opts.via ?? [guestBinaryPath()];
    this.#child = spawn(cmd!, [...pre, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
    let buf = '';
    this.#child.stdout!.setEncoding('utf8');
    this.#child.stdout!.on('data', (d: string) => {
      buf += d;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const text = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!text.trim()) continue;
        let line: GuestLine;
        try {
          line = JSON.parse(text) as GuestLine;
        } catch {
          line = { type: 'unparsed', text };
        }
        this.lines.push(line);
        for (let i = this.#waiters.length - 1; i >= 0; i--) {
          const w = this.#waiters[i]!;
          if (w.type === line.type) {
            this.#waiters.splice(i, 1);
            w.resolve(line);
          }
        }
      }
    });
    this.#child.stderr!.setEncoding('utf8');
    this.#child.stderr!.on('data', (d: string) => {
      this.#stderr = (this.#stderr + d).slice(-STDERR_KEEP);
    });
    this.exited = new Promise<GuestExit>((resolve) => {
      const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
        const summary = [...this.lines].reverse().find((l) => l.type === 'summary') ?? null;
        this.#exit = { code, signal, summary, stderr: this.#stderr.trim() };
        const why = new Error(`${this.name} exited (${code ?? signal}) before the line was printed`
          + `${this.#stderr.trim() ? `: ${this.#stderr.trim().split('\n').pop()}` : ''}`);
        for (const w of this.#waiters.splice(0)) w.reject(why);
        resolve(this.#exit);
      };
      this.#child.on('error', (e) => {
        this.#stderr += `\nspawn: ${e.message}`;
        finish(null, null);
      });
      this.#child.on('close', finish);
    });
  }

  static spawn(name: string, args: string[], opts: GuestSpawnOptions = {}): GuestProcess {
    return new GuestProcess(name, args, opts);
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** The first line of this type (already printed, or the next one), bounded. */
  waitFor(type: string, timeoutMs = 10_000): Promise<GuestLine> {
    const have = this.lines.find((l) => l.type === type);
    if (have) return Promise.resolve(have);
    if (this.#exit) return Promise.reject(new Error(`${this.name} has exited (${this.#exit.code ?? this.#exit.signal})`));
    return new Promise<GuestLine>((resolve, reject) => {
      const t = setTimeout(() => {
        const i = this.#waiters.indexOf(w);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(new Error(`${this.name}: no '${type}' line within ${timeoutMs} ms`));
      }, timeoutMs);
      const w = {
        type,
        resolve: (l: GuestLine) => {
          clearTimeout(t);
          resolve(l);
        },
        reject: (e: Error) => {
          clearTimeout(t);
          reject(e);
        },
      };
      this.#waiters.push(w);
    });
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (!this.#exit) this.#child.kill(signal);
  }

  /** Waits for the exit, killing the process if it takes longer than timeoutMs. */
  async finish(timeoutMs: number): Promise<GuestExit> {
    const t = setTimeout(() => this.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(t);
    }
  }
}
