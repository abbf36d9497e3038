/**
 * Live progress of `vfmed migrate` on stderr: on a terminal a cli-progress bar (share of
 * guest RAM already sent, round, RAM remaining, dirty rate, bandwidth, expected downtime),
 * elsewhere one plain line per round and per phase, so logs and pipes stay readable.
 * Nothing with --json (stdout then carries the events themselves) unless asked.
 */
import cliProgress from 'cli-progress';
import type { ProgressEvent } from '../guest/monitor-protocol.js';
import { fmtBytes, fmtMs } from './migrate-report.js';

export interface MigrateProgress {
  phase(name: string): void;
  round(p: ProgressEvent): void;
  /** Removes the bar (before the final report or an error line). */
  end(): void;
}

function roundLine(p: ProgressEvent): string {
  return `round ${p.round}: ${fmtBytes(p.ram_remaining_bytes)} of ${fmtBytes(p.ram_bytes)} RAM left, `
    + `${p.pages_sent} pages sent (${p.pages_cpu} CPU-dirty, ${p.pages_device} device-dirty) in ${fmtMs(p.round_ms)}, `
    + `dirty ${Math.round(p.dirty_rate_pps)} pages/s, ${fmtBytes(p.bandwidth_bps)}/s, expected downtime ${fmtMs(p.expected_downtime_ms)}`;
}

export function lineProgress(write: (s: string) => void): MigrateProgress {
  return {
    phase: (name) => write(`migration: ${name}\n`),
    round: (p) => write(`${roundLine(p)}\n`),
    end() {},
  };
}

export function barProgress(stream: NodeJS.WriteStream): MigrateProgress {
  let bar: cliProgress.SingleBar | null = null;
  const fields = (p: ProgressEvent | null) => ({
    round: p ? String(p.round) : '-',
    left: p ? fmtBytes(p.ram_remaining_bytes) : '-',
    rate: p ? String(Math.round(p.dirty_rate_pps)) : '-',
    bw: p ? `${fmtBytes(p.bandwidth_bps)}/s` : '-',
    downtime: p ? fmtMs(p.expected_downtime_ms) : '-',
  });
  const ensure = (total: number): cliProgress.SingleBar => {
    if (!bar) {
      bar = new cliProgress.SingleBar({
        stream,
        format: ' {bar} {percentage}% | round {round} | RAM left {left} | dirty {rate} pages/s | {bw} | exp. downtime {downtime}',
        barsize: 24,
        hideCursor: true,
        clearOnComplete: true,
        fps: 5,
      }, cliProgress.Presets.shades_classic);
      bar.start(Math.max(1, total), 0, fields(null));
    }
    return bar;
  };
  return {
    phase(name) {
      if (bar) bar.update(fields(null));
      else stream.write(`migration: ${name}\n`);
    },
    round(p) {
      const b = ensure(p.ram_bytes);
      b.setTotal(Math.max(1, p.ram_bytes));
      b.update(Math.max(0, p.ram_bytes - p.ram_remaining_bytes), fields(p));
    },
    end() {
      bar?.stop();
      bar = null;
    },
  };
}

export function silentProgress(): MigrateProgress {
  return { phase() {}, round() {}, end() {} };
}

export function chooseProgress(json: boolean, stream: NodeJS.WriteStream = process.stderr): MigrateProgress {
  if (json) return silentProgress();
  return stream.isTTY ? barProgress(stream) : lineProgress((s) => stream.write(s));
}
