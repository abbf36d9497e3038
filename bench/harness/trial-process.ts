/**
 * Runs one repetition of one trial in a fresh Node process: fork trials/child.js with an
 * IPC channel and --expose-gc, send the run request, relay progress, collect the result.
 * The child is killed (SIGKILL, by its pid) when it exceeds its time limit or the run is
 * aborted; its stderr is kept (the last lines) to explain a failure.
 */
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot } from '../../mediator/native/addon.js';
import type { JsonObject } from '../scenario-types.js';
import type { ChildMessage, RunRequest } from '../trials/protocol.js';

export type RepetitionOutcome =
  | { ok: true; pid: number; wallMs: number; samples: Record<string, number[]>; extra: JsonObject }
  | { ok: false; pid: number; wallMs: number; reason: string };

export interface RepetitionOptions {
  timeoutMs: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** The compiled child main: next to this module when running from dist/, else dist/. */
export function childMainPath(): string {
  const here = fileURLToPath(new URL('../trials/child.js', import.meta.url));
  if (existsSync(here)) return here;
  const dist = join(repoRoot(), 'dist', 'bench', 'trials', 'child.js');
  if (existsSync(dist)) return dist;
  throw new Error(`the trial child (${dist}) is not built: run "npm run build"`);
}

const STDERR_KEEP = 4096;

export function runRepetition(req: RunRequest, opts: RepetitionOptions): Promise<RepetitionOutcome> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = fork(childMainPath(), [], {
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
      env: { ...process.env, VFMED_BENCH_CHILD: '1' },
    });
    const pid = child.pid ?? -1;
    let stderr = '';
    let answer: ChildMessage | undefined;
    let killedFor: string | undefined;
    let settled = false;
    child.stderr?.on('data', (b: Buffer) => {
      stderr = (stderr + b.toString('utf8')).slice(-STDERR_KEEP);
    });
    child.stdout?.resume(); // a trial's stdout is not part of its result
    const kill = (why: string): void => {
      if (killedFor || child.exitCode !== null) return;
      killedFor = why;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => kill(`timed out after ${Math.round(opts.timeoutMs / 1000)} s`), opts.timeoutMs);
    const onAbort = (): void => kill('interrupted');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    // A child that answered but does not exit (a leaked thread or handle) is reaped.
    let reaper: NodeJS.Timeout | undefined;
    child.on('message', (m: ChildMessage) => {
      if (m.type === 'progress') {
        opts.onProgress?.(m.done, m.total);
      } else {
        answer = m;
        reaper = setTimeout(() => kill('did not exit after answering'), 10_000);
      }
    });
    const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (reaper) clearTimeout(reaper);
      opts.signal?.removeEventListener('abort', onAbort);
      const wallMs = Date.now() - t0;
      if (answer?.type === 'result') {
        // Answered: the samples stand even if the process then had to be reaped.
        resolve({ ok: true, pid, wallMs, samples: answer.samples, extra: answer.extra });
      } else if (answer?.type === 'error') {
        resolve({ ok: false, pid, wallMs, reason: answer.code ? `${answer.code}: ${answer.message}` : answer.message });
      } else {
        const tail = stderr.trim().split('\n').filter(Boolean).slice(-1)[0];
        const how = killedFor ?? (signal ? `killed by ${signal}` : `exited with status ${code} without a result`);
        resolve({ ok: false, pid, wallMs, reason: tail ? `${how}; last stderr line: ${tail}` : how });
      }
    };
    child.on('close', finish); // after exit, once stdio and the IPC channel are drained
    child.on('error', (e) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ok: false, pid, wallMs: Date.now() - t0, reason: `could not start the trial process: ${e.message}` });
    });
    child.send(req, (err) => {
      if (err) kill(`could not send the run request: ${err.message}`);
    });
  });
}
