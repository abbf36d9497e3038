// Fixtures for the live-migration tests: a wire that joins the two daemons' uplinks as one
// L2 segment, and helpers to start a source and an --incoming destination runner (the
// monitor client is tests/helpers/monitor-client.ts).
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MigState } from '../../../mediator/migration/fsm.js';
import type { DaemonRig } from '../../mediate/helpers/daemon-rig.js';
import { GuestProcess } from '../../mediate/helpers/guest-process.js';

export type Json = Record<string, unknown>;

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
