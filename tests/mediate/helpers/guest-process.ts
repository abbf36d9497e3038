// A vfmed-guest process whose JSON lines are read as they arrive, so a test can wait for
// "init", a "migration" event or a "bar_layout" change while the guest runs, signal it, and
// collect the summary at the end.
import { spawn, type ChildProcess } from 'node:child_process';
import { guestBinary, type GuestLine } from '../../guest/guest-harness.js';

export class GuestProcess {
  readonly lines: GuestLine[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly #child: ChildProcess;
  #partial = '';
  #waiters: Array<() => void> = [];

  constructor(args: string[], opts: { timeoutMs?: number } = {}) {
    this.#child = spawn(guestBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child.stdout!.on('data', (d: Buffer) => this.#onData(d.toString()));
    this.#child.stderr!.on('data', (d: Buffer) => { this.stderr += d.toString(); });
    const hard = setTimeout(() => this.#child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    this.exited = new Promise((resolve) => {
      this.#child.on('close', (code, signal) => {
        clearTimeout(hard);
        this.#wake();
        resolve({ code, signal });
      });
    });
  }

  get pid(): number {
    return this.#child.pid ?? -1;
  }

  signal(sig: NodeJS.Signals): void {
    this.#child.kill(sig);
  }

  /** The first line (from `from` on) that matches, waiting up to ms for it. */
  async waitFor(pred: (l: GuestLine) => boolean, what: string, ms = 20_000, from = 0): Promise<GuestLine> {
    const deadline = Date.now() + ms;
    for (;;) {
      const l = this.lines.slice(from).find(pred);
      if (l) return l;
      if (this.#child.exitCode !== null || this.#child.signalCode !== null) {
        throw new Error(`vfmed-guest exited (${this.#child.exitCode ?? this.#child.signalCode}) before ${what}\n${this.stderr}`);
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${this.stderr}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 20);
        this.#waiters.push(() => { clearTimeout(t); r(); });
      });
    }
  }

  line(type: string): GuestLine {
    const l = [...this.lines].reverse().find((x) => x.type === type);
    if (!l) throw new Error(`no "${type}" line (stderr: ${this.stderr})`);
    return l;
  }

  /** SIGTERM and the exit status. */
  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGTERM');
    return this.exited;
  }

  #onData(text: string): void {
    this.#partial += text;
    const parts = this.#partial.split('\n');
    this.#partial = parts.pop() ?? '';
    for (const p of parts) if (p.trim()) this.lines.push(JSON.parse(p) as GuestLine);
    this.#wake();
  }

  #wake(): void {
    const ws = this.#waiters;
    this.#waiters = [];
    for (const w of ws) w();
  }
}

/** A frame for VF `dst` from the wire: a source MAC per flow (so RX steering spreads flows
 * over both queues), a local experimental ethertype, a recognisable payload. */
export function wireFrame(dst: Uint8Array, flow: number, len: number): Buffer {
  const f = Buffer.alloc(len);
  Buffer.from(dst).copy(f, 0);
  f.writeUInt8(0x02, 6);
  f.writeUInt32BE(0x00ab0000 + (flow & 0xffff), 7);
  f.writeUInt8(flow & 0xff, 11);
  f.writeUInt16BE(0x88b5, 12);
  for (let i = 14; i < len; i++) f[i] = (i + flow) & 0xff;
  return f;
}
