// Fixtures for the live-migration tests: a monitor client (JSON lines over the runner's
// --monitor socket), a wire that joins the two daemons' uplinks as one L2 segment, and
// helpers to start a source and an --incoming destination runner.
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MigState } from '../../../mediator/migration/fsm.js';
import type { DaemonRig } from '../../mediate/helpers/daemon-rig.js';
import { GuestProcess } from '../../mediate/helpers/guest-process.js';

export type Json = Record<string, unknown>;

export class MonitorClient {
  readonly events: Json[] = [];
  readonly replies: Json[] = [];
  closed = false;
  #sock: Socket;
  #buf = '';
  #nextId = 1;
  #waiters: Array<() => void> = [];

  private constructor(sock: Socket) {
    this.#sock = sock;
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.#buf += d;
      let nl: number;
      while ((nl = this.#buf.indexOf('\n')) >= 0) {
        const line = this.#buf.slice(0, nl);
        this.#buf = this.#buf.slice(nl + 1);
        const obj = JSON.parse(line) as Json;
        (obj['event'] !== undefined ? this.events : this.replies).push(obj);
      }
      this.#wake();
    });
    sock.on('close', () => { this.closed = true; this.#wake(); });
    sock.on('error', () => { /* close follows */ });
  }

  static async open(path: string, ms = 10_000): Promise<MonitorClient> {
    const deadline = Date.now() + ms;
    for (;;) {
      try {
        const s = await new Promise<Socket>((resolve, reject) => {
          const c = connect(path, () => resolve(c));
          c.once('error', reject);
        });
        return new MonitorClient(s);
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  /** Sends raw text (tests of malformed lines). */
  write(text: string): void {
    this.#sock.write(text);
  }

  async request(cmd: Json): Promise<Json> {
    const id = this.#nextId++;
    this.#sock.write(`${JSON.stringify({ ...cmd, id })}\n`);
    return this.wait(() => this.replies.find((r) => r['id'] === id), `reply ${id}`);
  }

  async event(pred: (e: Json) => boolean, what: string, ms = 30_000): Promise<Json> {
    return this.wait(() => this.events.find(pred), what, ms);
  }

  async wait<T>(get: () => T | undefined, what: string, ms = 30_000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = get();
      if (v !== undefined) return v;
      if (this.closed) throw new Error(`monitor closed before ${what}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; events: ${JSON.stringify(this.events)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.#waiters.push(() => { clearTimeout(t); r(); });
      });
    }
  }

  close(): void {
    this.#sock.destroy();
  }

  #wake(): void {
    const ws = this.#waiters;
    this.#waiters = [];
    for (const w of ws) w();
  }
}

/**
 * One L2 segment joining host A's and host B's uplinks (what the bridges and the veth pair
 * are in the e2e setup): every frame either sends goes to the VF that currently owns the
 * guest's MAC. While neither side runs the guest (switchover), frames wait on the wire.
 * A frame the VF cannot take (its RX FIFO is full because the guest process is not
 * scheduled on a loaded machine) waits too, in order, as behind a switch port with flow
 * control: losses that come from the test host's CPU load are not what these tests are
 * about. `dropped`: frames not delivered (still waiting, or left when the wire stopped).
 */
export class SharedWire {
  held: Buffer[] = [];
  delivered = 0;
  #leftAtStop = 0;
  readonly #timer: NodeJS.Timeout;

  constructor(private readonly a: DaemonRig, private readonly b: DaemonRig) {
    this.#timer = setInterval(() => this.pump(), 1);
  }

  #live(rig: DaemonRig): boolean {
    const h = rig.driver!.handle(0);
    const s = h?.migration.state;
    return h !== undefined && rig.nic.vfInfo(0).rxEn
      && (s === MigState.RUNNING || s === MigState.PRE_COPY || s === MigState.PRE_COPY_P2P);
  }

  pump(): void {
    for (const rig of [this.a, this.b]) for (let f = rig.nic.uplinkTake(); f; f = rig.nic.uplinkTake()) this.held.push(f);
    const target = this.#live(this.a) ? this.a : this.#live(this.b) ? this.b : null;
    if (!target) return;
    let i = 0;
    for (; i < this.held.length; i++) {
      try {
        target.nic.uplinkInject(this.held[i]!);
        this.delivered++;
      } catch {
        break; // FIFO full: the rest waits for the next pump
      }
    }
    this.held = this.held.slice(i);
  }

  get dropped(): number {
    return this.held.length + this.#leftAtStop;
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#leftAtStop += this.held.length;
    this.held = [];
  }
}

let seq = 0;
export function monitorPath(tag: string): string {
  return join(tmpdir(), `vfmed-mon-${process.pid}-${tag}-${seq++}.sock`);
}

/** A destination runner; resolves with its listening port. */
export async function startIncoming(rig: DaemonRig, args: string[]): Promise<{ guest: GuestProcess; port: number }> {
  const guest = new GuestProcess([...args.slice(0, 1), '--socket', rig.path(0), '--incoming', 'tcp:127.0.0.1:0', ...args.slice(1)]);
  const l = await guest.waitFor((x) => x.type === 'live_migration' && x['phase'] === 'listening', 'the destination listening');
  return { guest, port: l['port'] as number };
}

/** What one live-migration test started, stopped in reverse dependency order after it:
 * extra cleanups, then the runners, then the daemons. */
export class LiveResources {
  rigs: DaemonRig[] = [];
  guests: GuestProcess[] = [];
  cleanup: Array<() => void> = [];

  async teardown(): Promise<void> {
    for (const c of this.cleanup) c();
    this.cleanup = [];
    for (const g of this.guests) await g.stop();
    this.guests = [];
    for (const r of this.rigs) await r.close();
    this.rigs = [];
  }
}
