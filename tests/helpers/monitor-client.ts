// The tests' own client of a runner's monitor socket (docs/live-migration.md, "Monitor
// protocol"): JSON lines over a UNIX stream socket; every client receives every event, so a
// test connects one next to `vfmed migrate` to watch a migration (and act on a precise
// event) without relying on the command it is testing. Independent of the mediator's code
// (mediator/guest/monitor-client.ts), so it checks that code rather than sharing its bugs.
import { connect, type Socket } from 'node:net';

export type MonitorMsg = Record<string, unknown>;

export class MonitorClient {
  readonly events: MonitorMsg[] = [];
  readonly replies: MonitorMsg[] = [];
  readonly #sock: Socket;
  #buf = '';
  #nextId = 1;
  #closed = false;
  readonly #waiters = new Set<() => void>();

  private constructor(sock: Socket) {
    this.#sock = sock;
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.#buf += d;
      for (let nl = this.#buf.indexOf('\n'); nl >= 0; nl = this.#buf.indexOf('\n')) {
        const text = this.#buf.slice(0, nl);
        this.#buf = this.#buf.slice(nl + 1);
        if (!text.trim()) continue;
        let m: MonitorMsg;
        try {
          m = JSON.parse(text) as MonitorMsg;
        } catch {
          m = { unparsed: text };
        }
        (typeof m['event'] === 'string' ? this.events : this.replies).push(m);
      }
      this.#wake();
    });
    sock.on('error', () => {});
    sock.on('close', () => {
      this.#closed = true;
      this.#wake();
    });
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }

  /** Connects, retrying while the runner has not created its socket yet (bounded). */
  static async connect(path: string, timeoutMs = 15_000): Promise<MonitorClient> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      try {
        const s = await new Promise<Socket>((resolve, reject) => {
          const c = connect(path);
          c.once('connect', () => resolve(c));
          c.once('error', reject);
        });
        return new MonitorClient(s);
      } catch (e) {
        last = (e as Error).message;
      }
      if (Date.now() > deadline) throw new Error(`monitor ${path} did not accept a connection within ${timeoutMs} ms: ${last}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends a request with a fresh id and waits for its reply (bounded). */
  async request(req: MonitorMsg, timeoutMs = 10_000): Promise<MonitorMsg> {
    const id = this.#nextId++;
    this.#sock.write(`${JSON.stringify({ ...req, id })}\n`);
    return this.#until(() => this.replies.find((r) => r['id'] === id), `reply to ${JSON.stringify(req)}`, timeoutMs);
  }

  /** Sends raw bytes (malformed-input tests). */
  writeRaw(s: string): void {
    this.#sock.write(s);
  }

  /** The first event (from index `from`) satisfying `pred`, already received or coming. */
  waitEvent(pred: (e: MonitorMsg) => boolean, what: string, timeoutMs = 30_000, from = 0): Promise<MonitorMsg> {
    return this.#until(() => this.events.slice(from).find(pred), what, timeoutMs);
  }

  /** Resolves once the runner has closed this connection (bounded). */
  untilClosed(what: string, timeoutMs = 30_000): Promise<true> {
    return this.#until(() => (this.#closed ? true : undefined), what, timeoutMs);
  }

  /** The migration's end: the first `completed` or `failed` event. */
  outcome(timeoutMs = 60_000): Promise<MonitorMsg> {
    return this.waitEvent((e) => e['event'] === 'completed' || e['event'] === 'failed', 'completed/failed event', timeoutMs);
  }

  #until<T>(get: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    const now = get();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise<T>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(t);
        this.#waiters.delete(check);
      };
      const check = (): void => {
        const v = get();
        if (v !== undefined) {
          done();
          resolve(v);
        } else if (this.#closed) {
          done();
          reject(new Error(`monitor closed before ${what} (events: ${this.#tail()})`));
        }
      };
      const t = setTimeout(() => {
        done();
        reject(new Error(`no ${what} within ${timeoutMs} ms (events: ${this.#tail()})`));
      }, timeoutMs);
      this.#waiters.add(check);
    });
  }

  #tail(): string {
    return JSON.stringify(this.events.slice(-4)).slice(0, 800);
  }

  close(): void {
    this.#sock.destroy();
  }
}
