/**
 * One boot of the Debian kernel in QEMU for the kernel test: spawns scripts/kernel/boot.sh
 * (the single place that knows the QEMU command line), with the console (ttyS0) and the
 * result channel (ttyS1) going to files in a work directory. The host side of a test polls
 * the result file while the guest runs (`waitFor`), so it can react to a step (inject
 * traffic, drive a VF) without a second control channel, and reads the console afterwards
 * for diagnostics.
 *
 * Files, not pipes: QEMU never blocks on a full pipe when the host test is busy in a
 * synchronous device call, and the logs survive for a failed test's message.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseResults, type GuestResults } from './results.js';

export interface BootOptions {
  repo: string;
  /** Kernel image for boot.sh --kernel (the ELF vmlinux or a bzImage). */
  kernel: string;
  initrd: string;
  /** Guest RAM file (created by the caller at memMiB size; shared with the device model). */
  ramFile: string;
  memMiB: number;
  /** BAR files, in order: the n-th is PCI 0000:00:(0x10+n).0 in the guest. */
  bars: string[];
  iommu: boolean;
  /** name=value pairs for the kernel command line; /init gets them as environment. */
  params: Record<string, string>;
  workDir: string;
  /** Hard limit for the whole boot (timeout(1) around QEMU). */
  timeoutSec: number;
  /** Host directory exported read-only to the guest over virtio-9p (tag "hostroot"). */
  share?: string;
}

export interface GuestExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** PCI address the guest gives to the n-th BAR file (boot.sh's fixed slots). */
export function barBdf(n: number): string {
  return `0000:00:${(0x10 + n).toString(16).padStart(2, '0')}.0`;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class QemuGuest {
  readonly consolePath: string;
  readonly resultsPath: string;
  readonly startedAt: number;
  /** Host wall time from spawn to the guest's VFMED-BOOTED line. */
  bootMs: number | null = null;
  private readonly child: ChildProcess;
  private exitInfo: GuestExit | null = null;
  private readonly exited: Promise<GuestExit>;
  private stderr = '';

  private constructor(opts: BootOptions) {
    this.consolePath = join(opts.workDir, 'console.log');
    this.resultsPath = join(opts.workDir, 'results.log');
    const args = [
      join(opts.repo, 'scripts/kernel/boot.sh'),
      '--kernel', opts.kernel, '--initrd', opts.initrd,
      '--ram-file', opts.ramFile, '--mem', `${opts.memMiB}M`,
      '--console', this.consolePath, '--results', this.resultsPath,
      '--timeout', String(opts.timeoutSec),
      '--append', Object.entries(opts.params).map(([k, v]) => `${k}=${v}`).join(' '),
    ];
    for (const b of opts.bars) args.push('--bar', b);
    if (opts.iommu) args.push('--iommu');
    if (opts.share) args.push('--share', opts.share);
    this.startedAt = Date.now();
    this.child = spawn('bash', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child.stderr!.on('data', (d: Buffer) => { this.stderr += d.toString(); });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
    });
  }

  static start(opts: BootOptions): QemuGuest {
    for (const k of Object.keys(opts.params)) {
      // The kernel hands name=value to init's environment only for names without dots.
      if (!/^[a-z_][a-z0-9_]*$/.test(k)) throw new RangeError(`kernel parameter name ${k}`);
    }
    for (const [k, v] of Object.entries(opts.params)) {
      // One word each: the command line is split on blanks and quotes are not unescaped.
      if (!/^[\x21-\x7e]+$/.test(v) || /["']/.test(v)) throw new RangeError(`kernel parameter ${k}=${v}`);
    }
    return new QemuGuest(opts);
  }

  get hasExited(): boolean {
    return this.exitInfo !== null;
  }

  results(): GuestResults {
    const r = parseResults(existsSync(this.resultsPath) ? readFileSync(this.resultsPath, 'utf8') : '');
    if (this.bootMs === null && r.bootedUptime !== null) this.bootMs = Date.now() - this.startedAt;
    return r;
  }

  console(): string {
    return existsSync(this.consolePath) ? readFileSync(this.consolePath, 'utf8') : '';
  }

  /** The last lines of the console and boot.sh's stderr, for failure messages. */
  tail(lines = 40): string {
    const c = this.console().split('\n').slice(-lines).join('\n');
    return `--- guest console (last ${lines} lines) ---\n${c}\n--- boot.sh stderr ---\n${this.stderr}`;
  }

  /**
   * Polls `probe` every `everyMs` until it returns a value other than undefined. Fails with
   * the console tail if QEMU exits first or `timeoutMs` passes.
   */
  async waitFor<T>(what: string, probe: (r: GuestResults) => T | undefined, timeoutMs: number,
    everyMs = 20): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = probe(this.results());
      if (v !== undefined) return v;
      if (this.hasExited) {
        const last = probe(this.results());
        if (last !== undefined) return last;
        throw new Error(`guest exited (${JSON.stringify(this.exitInfo)}) before ${what}\n${this.tail()}`);
      }
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${this.tail()}`);
      await sleep(everyMs);
    }
  }

  /** Waits for QEMU to exit (the guest powers off after VFMED-END). */
  async exit(timeoutMs: number): Promise<GuestExit> {
    let timer: NodeJS.Timeout | undefined;
    const t = new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), timeoutMs); });
    const v = await Promise.race([this.exited, t]);
    clearTimeout(timer);
    if (v === 'timeout') {
      this.kill();
      throw new Error(`QEMU still running ${timeoutMs} ms after the wait began\n${this.tail()}`);
    }
    return v;
  }

  /** Stops QEMU (SIGTERM to timeout(1), which forwards it). Idempotent. */
  kill(): void {
    if (!this.hasExited) this.child.kill('SIGTERM');
  }
}
