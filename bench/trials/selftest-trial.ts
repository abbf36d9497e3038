/**
 * Trial entry point `selftest`: the harness's own probe, with no device. It measures the
 * cost of reading the clock (mode 'clock'), and can fail on purpose so the harness's
 * failure handling is tested for real: 'throw' (the entry throws), 'exit' (the process dies
 * with status 3 without answering), 'hang' (never answers: the harness's timeout must kill
 * it), 'bad-result' (answers with the wrong sample count).
 */
import { now } from './clock.js';
import { oneOf, onlyKeys } from './params.js';
import type { TrialContext, TrialEntryPoint, TrialOutput } from './protocol.js';
import { runSamples } from './sampler.js';

const MODES = ['clock', 'throw', 'exit', 'hang', 'bad-result'] as const;

export const selftestTrial: TrialEntryPoint = {
  validate(params) {
    onlyKeys(params, ['mode']);
    oneOf(params, 'mode', MODES);
  },
  run(ctx: TrialContext): TrialOutput {
    const mode = oneOf(ctx.params, 'mode', MODES);
    switch (mode) {
      case 'throw':
        throw new Error('selftest: failing on purpose');
      case 'exit':
        process.exit(3);
        break;
      case 'hang':
        // Block without burning a core until the harness kills us.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
        break;
      case 'bad-result':
        return { samples: { latency: [1] } };
      case 'clock':
        break;
    }
    let sink = 0n;
    const latency = runSamples(ctx, { opsPerSample: 1, op: () => { sink ^= now(); } });
    return { samples: { latency }, extra: { sink: Number(sink & 1n) } };
  },
};
