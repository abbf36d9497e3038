// Runs tests/e2e/helpers/tcp-flip-relay.py (a one-connection TCP relay that flips one byte
// and, unlike a Node socket, still reads what a peer sent before resetting the connection)
// and reports where it listens and how the connection ended.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../../mediator/native/addon.js';

export interface RelayEnd { forwarded: number; returned: number; flipped: boolean; closed_by: string }

export class FlipRelay {
  readonly #child: ChildProcess;
  readonly #lines: Array<Record<string, unknown>> = [];
  #stderr = '';
  readonly #exited: Promise<number | null>;
  port = 0;

  private constructor(args: string[]) {
    const script = join(repoRoot(), 'tests', 'e2e', 'helpers', 'tcp-flip-relay.py');
    this.#child = spawn('python3', [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    this.#child.stdout!.setEncoding('utf8');
    this.#child.stdout!.on('data', (d: string) => {
      buf += d;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        this.#lines.push(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>);
        buf = buf.slice(nl + 1);
      }
    });
    this.#child.stderr!.on('data', (d: Buffer) => (this.#stderr += d.toString()));
    this.#exited = new Promise((r) => this.#child.on('close', (c) => r(c)));
  }

  static async start(listenHost: string, targetHost: string, targetPort: number, flipAt: number): Promise<FlipRelay> {
    const r = new FlipRelay([listenHost, targetHost, String(targetPort), String(flipAt)]);
    const deadline = Date.now() + 10_000;
    let gone = false;
    void r.#exited.then(() => (gone = true));
    while (!r.#lines.length) {
      if (gone || Date.now() > deadline) {
        r.#child.kill('SIGKILL');
        throw new Error(`tcp-flip-relay.py did not start (python3 needed, scripts/deps.d/10-base.sh): ${r.#stderr.trim()}`);
      }
      await new Promise((res) => setTimeout(res, 20));
    }
    r.port = r.#lines[0]!['port'] as number;
    return r;
  }

  /** The relay's final report once the connection ended (bounded: killed after 60 s). */
  async finished(timeoutMs = 60_000): Promise<RelayEnd> {
    const t = setTimeout(() => this.#child.kill('SIGKILL'), timeoutMs);
    const code = await this.#exited;
    clearTimeout(t);
    const end = this.#lines[1] as RelayEnd | undefined;
    if (code !== 0 || !end) throw new Error(`tcp-flip-relay.py ended with ${code}: ${this.#stderr.trim()}`);
    return end;
  }

  kill(): void {
    this.#child.kill('SIGKILL');
  }
}
