/**
 * A vfmed-guest process for the trials: spawned with its arguments, its JSON lines parsed as
 * they arrive (stats windows are the samples of the traffic trial), stopped with SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { nativeBuildDir } from '../../../mediator/native/addon.js';

export type GuestLine = Record<string, unknown> & { type: string };

export function guestBinary(): string {
  const bin = join(nativeBuildDir(), 'vfmed-guest');
  if (!existsSync(bin)) throw new Error(`vfmed-guest not built (${bin} missing): run "npm install"`);
  return bin;
}

export class Guest {
  readonly lines: GuestLine[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  readonly #child: ChildProcess;
  #partial = '';

  constructor(args: string[]) {
    this.#child = spawn(guestBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child.stdout!.on('data', (d: Buffer) => {
      this.#partial += d.toString();
      const parts = this.#partial.split('\n');
      this.#partial = parts.pop() ?? '';
      for (const p of parts) if (p.trim()) this.lines.push(JSON.parse(p) as GuestLine);
    });
    this.#child.stderr!.on('data', (d: Buffer) => { this.stderr += d.toString(); });
    this.exited = new Promise((r) => this.#child.on('close', (code) => r(code)));
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  async waitFor(pred: (lines: GuestLine[]) => boolean, what: string, ms = 30_000): Promise<void> {
    const end = Date.now() + ms;
    while (!pred(this.lines)) {
      if (!this.running) throw new Error(`vfmed-guest exited before ${what}: ${this.stderr.trim()}`);
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  last(type: string): GuestLine | undefined {
    return [...this.lines].reverse().find((l) => l.type === type);
  }

  async stop(): Promise<number | null> {
    if (this.running) this.#child.kill('SIGTERM');
    return this.exited;
  }
}
