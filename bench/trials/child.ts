/**
 * Main of a trial child process (forked by harness/trial-process.ts with an IPC channel and
 * --expose-gc). Waits for one RunRequest, runs that entry point once (warm-up + samples),
 * checks the output has exactly the declared metrics and sample count, answers with a
 * result or an error message, and exits. Anything it prints goes to the harness's log of
 * the repetition, never into the results.
 */
import type { ChildMessage, RunRequest, TrialOutput } from './protocol.js';
import { loadEntry } from './index.js';

function send(msg: ChildMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!process.send) {
      reject(new Error('the trial child must be started with an IPC channel'));
      return;
    }
    process.send(msg, undefined, {}, (err) => (err ? reject(err) : resolve()));
  });
}

function checkOutput(req: RunRequest, out: TrialOutput): void {
  const got = Object.keys(out.samples ?? {}).sort();
  const want = [...req.metrics].sort();
  if (got.join() !== want.join()) {
    throw new Error(`entry ${req.entry} returned metrics [${got.join(', ')}], the row declares [${want.join(', ')}]`);
  }
  for (const m of want) {
    const s = out.samples[m]!;
    if (!Array.isArray(s) || s.length !== req.samples) {
      throw new Error(`entry ${req.entry} returned ${Array.isArray(s) ? s.length : 'no'} ${m} samples, expected ${req.samples}`);
    }
    if (!s.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new Error(`entry ${req.entry} returned a non-finite ${m} sample`);
    }
  }
}

async function run(req: RunRequest): Promise<void> {
  let lastSent = 0;
  try {
    const entry = await loadEntry(req.entry);
    entry.validate(req.params);
    const out = await entry.run({
      trial: req.trial,
      params: req.params,
      warmup: req.warmup,
      samples: req.samples,
      progress(done, total) {
        const t = Date.now();
        if (done === total || t - lastSent >= 100) {
          lastSent = t;
          void send({ type: 'progress', done, total }).catch(() => undefined);
        }
      },
    });
    checkOutput(req, out);
    await send({ type: 'result', samples: out.samples, extra: out.extra ?? {} });
    process.exitCode = 0;
  } catch (e) {
    const err = e as { message?: string; code?: unknown };
    const msg: ChildMessage = { type: 'error', message: String(err?.message ?? e).split('\n')[0]! };
    if (typeof err?.code === 'string') msg.code = err.code;
    await send(msg).catch(() => undefined);
    process.exitCode = 1;
  } finally {
    process.disconnect?.();
  }
}

process.once('message', (m: unknown) => {
  const req = m as RunRequest;
  if (!req || req.type !== 'run') {
    void send({ type: 'error', message: 'expected a run request' }).finally(() => process.disconnect?.());
    process.exitCode = 1;
    return;
  }
  void run(req);
});
