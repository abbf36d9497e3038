/**
 * Progress of a run on stderr (stdout carries only the final tables): on a terminal a
 * cli-progress bar per scenario with an ETA and the trial in flight, with one line per
 * finished repetition printed above it; elsewhere (CI logs, pipes) only those lines, so a
 * log stays readable; --no-progress prints nothing.
 */
import cliProgress from 'cli-progress';
import type { ProgressSink } from './harness/runner.js';

export function silentProgress(): ProgressSink {
  return { begin() {}, update() {}, note() {}, end() {} };
}

export function lineProgress(write: (s: string) => void): ProgressSink {
  return {
    begin() {},
    update() {},
    note(line) {
      write(`${line}\n`);
    },
    end() {},
  };
}

export function barProgress(stream: NodeJS.WriteStream): ProgressSink {
  let multi: cliProgress.MultiBar | undefined;
  let bar: cliProgress.SingleBar | undefined;
  return {
    begin(total) {
      multi = new cliProgress.MultiBar({
        stream,
        format: ' {bar} {percentage}% | ETA {eta_formatted} | {label}',
        barsize: 30,
        hideCursor: true,
        clearOnComplete: true,
        etaBuffer: 50,
        fps: 5,
      }, cliProgress.Presets.shades_classic);
      bar = multi.create(Math.max(1, total), 0, { label: 'starting' });
    },
    update(done, label) {
      bar?.update(done, { label });
    },
    note(line) {
      if (multi) multi.log(`${line}\n`);
      else stream.write(`${line}\n`);
    },
    end() {
      multi?.stop();
      multi = undefined;
      bar = undefined;
    },
  };
}

export function chooseProgress(enabled: boolean, stream: NodeJS.WriteStream = process.stderr): ProgressSink {
  if (!enabled) return silentProgress();
  return stream.isTTY ? barProgress(stream) : lineProgress((s) => stream.write(s));
}
