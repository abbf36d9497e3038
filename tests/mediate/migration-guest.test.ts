// Device migration with a real guest (RAM shared on one host): a vfmed-guest running steady
// loopback traffic (its frames go out of the uplink and a wire loop here brings them back)
// moves its VF from one daemon to another: PRE_COPY (the destination checks the device
// model and parameters before any downtime), a busy guest letting frames pile up in the
// device's RX FIFO, stop-copy at a point where the device holds half a TX frame, RESUMING on
// the destination, and the same runner going on there with the same guest RAM. Every frame
// must arrive exactly once, in order and intact (--strict), and the device's counters must
// continue. Also through the v1 migration region; also a destination that refuses the
// stream (the source returns to RUNNING and traffic continues); and a second runner process
// that resumes from the migrated RAM file (--save-to / --resume --load-from).
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MigState } from '../../mediator/migration/fsm.js';
import { DaemonRig } from './helpers/daemon-rig.js';
import { GuestProcess } from './helpers/guest-process.js';

let rigs: DaemonRig[] = [];
let guests: GuestProcess[] = [];
let files: string[] = [];
afterEach(async () => {
  for (const g of guests) await g.stop();
  guests = [];
  for (const r of rigs) await r.close();
  rigs = [];
  for (const f of files) rmSync(f, { force: true });
  files = [];
});

/**
 * The wire between the guest's uplink and its VF, wherever that VF currently is: frames the
 * guest sent go back into the NIC that hosts it. While the source is being saved (STOP_COPY
 * or later) nothing goes into it; frames wait here until the destination runs, and then
 * enter it in the order they were sent.
 */
class WireLoop {
  held: Buffer[] = [];
  fifoAtSave: number | null = null;
  delivered = 0;
  /** frames the receiving VF could not take (its FIFO was full): lost on the wire */
  dropped = 0;
  readonly #timer: NodeJS.Timeout;

  constructor(private readonly src: DaemonRig, private readonly dst: DaemonRig | null) {
    this.#timer = setInterval(() => this.pump(), 1);
  }

  #srcLive(): boolean {
    const h = this.src.driver!.handle(0);
    const s = h?.migration.state;
    if (h && this.fifoAtSave === null && (s === MigState.STOP_COPY || s === MigState.STOP)) {
      this.fifoAtSave = this.src.nic.vfInfo(0).fifoFrames;
    }
    return h !== undefined && (s === MigState.RUNNING || s === MigState.PRE_COPY || s === MigState.PRE_COPY_P2P);
  }

  /** Running, and holding a loaded state (a fresh VF does not receive: VFRE is off until a
   * driver's VF_RESET, or until a migrated state brings it). */
  #dstLive(): boolean {
    return this.dst?.driver!.handle(0)?.migration.state === MigState.RUNNING && this.dst.nic.vfInfo(0).rxEn;
  }

  pump(): void {
    for (let f = this.src.nic.uplinkTake(); f; f = this.src.nic.uplinkTake()) this.held.push(f);
    const target = this.#srcLive() ? this.src : this.#dstLive() ? this.dst : null;
    if (target) {
      for (const f of this.held) this.#inject(target, f);
      this.held = [];
      if (target === this.dst) {
        for (let f = this.dst.nic.uplinkTake(); f; f = this.dst.nic.uplinkTake()) this.#inject(this.dst, f);
      }
    }
  }

  #inject(rig: DaemonRig, f: Buffer): void {
    try {
      rig.nic.uplinkInject(f);
      this.delivered++;
    } catch {
      this.dropped++; // ENOSPC: the VF's FIFO was full
    }
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

interface Migration {
  guest: GuestProcess;
  exit: { code: number | null };
  summary: Record<string, unknown>;
  migration: Record<string, unknown>[];
  loop: WireLoop;
}

async function migrate(args: { dst: DaemonRig; src: DaemonRig; v1?: boolean; count?: number }): Promise<Migration> {
  const count = args.count ?? 3000;
  const guest = new GuestProcess([
    'loopback', '--socket', args.src.path(0), '--migrate-to', args.dst.path(0), '--ring', '64', '--rate', '10000',
    '--size', '200', '--streams', '2', '--count', String(count), '--tx-split', '--precopy-ms', '20', '--precopy-rx-hold',
    '--stats-interval', '20', '--strict', ...(args.v1 ? ['--migration-v1'] : []),
  ]);
  guests.push(guest);
  const loop = new WireLoop(args.src, args.dst);
  try {
    await guest.waitFor((l) => l.type === 'stats' && (l['rx_tagged'] as number) > 300, 'traffic flowing');
    guest.signal('SIGUSR1');
    await guest.waitFor((l) => l.type === 'migration' && l['event'] !== 'precopy', 'the migration to finish');
    const exit = await guest.exited;
    return {
      guest, exit, summary: guest.line('summary'), loop,
      migration: guest.lines.filter((l) => l.type === 'migration'),
    };
  } finally {
    loop.stop();
  }
}

function expectExactlyOnce(m: Migration, count: number): void {
  expect(m.loop.dropped).toBe(0);
  expect(m.exit.code, m.guest.stderr).toBe(0); // --strict: no loss, duplicate, reordering or corruption
  expect(m.summary).toMatchObject({
    reason: 'count', tx_packets: count, rx_tagged: count, rx_lost: 0, rx_duplicated: 0, rx_reordered: 0, rx_stale: 0,
    rx_corrupted: 0, tx_undrained: 0, rx_queue_error: 0, tx_queue_error: 0,
  });
}

describe('VF migration with a running guest', () => {
  it('v2: PRE_COPY -> STOP_COPY -> RESUMING on a second daemon; every frame exactly once, counters continue', async () => {
    const src = new DaemonRig('gsrc'), dst = new DaemonRig('gdst');
    rigs.push(src, dst);
    const m = await migrate({ src, dst });
    expectExactlyOnce(m, 3000);
    const events = m.migration.map((l) => l['event']);
    expect(events).toEqual(['precopy', 'done']);
    const done = m.migration[1]!;
    expect(done).toMatchObject({ protocol: 'v2', migrations: 1, tx_half_pending: 1 });
    expect(done['precopy_bytes'] as number).toBeGreaterThan(64);
    expect(done['stopcopy_bytes'] as number).toBeGreaterThan(done['precopy_bytes'] as number);
    expect(m.loop.fifoAtSave).toBeGreaterThan(0); // frames waiting in the FIFO travelled with the VF
    expect(m.summary['migrations']).toBe(1);
    // The device's own counters went on from where the source left them.
    const d = dst.nic.vfInfo(0);
    expect(d.txPackets).toBe(3000n);
    expect(d.rxPackets).toBe(3000n);
    expect(d.fifoDrops).toBe(0n);
    // The source's copy of the FIFO went with the state; the source VF, reset when the
    // runner left it, discarded exactly that copy.
    expect(src.nic.vfInfo(0).fifoDrops).toBe(BigInt(m.loop.fifoAtSave!));
    expect((m.summary['device'] as { vfgptc: number }).vfgptc).toBe(3000);
  });

  it('v1: the same through the v1 migration region', async () => {
    const src = new DaemonRig('g1src'), dst = new DaemonRig('g1dst');
    rigs.push(src, dst);
    const m = await migrate({ src, dst, v1: true, count: 2000 });
    expectExactlyOnce(m, 2000);
    expect(m.migration.map((l) => [l['event'], l['protocol']])).toEqual([['precopy', 'v1'], ['done', 'v1']]);
    expect(dst.nic.vfInfo(0).rxPackets).toBe(2000n);
  });

  it('a destination that refuses the stream: the source returns to RUNNING and traffic continues', async () => {
    const src = new DaemonRig('grsrc'), small = new DaemonRig('grsmall', { rxFifoBytes: 32 * 1024 });
    rigs.push(src, small);
    const m = await migrate({ src, dst: small, count: 2000 });
    expectExactlyOnce(m, 2000);
    expect(m.migration.map((l) => l['event'])).toEqual(['refused']);
    expect(m.migration[0]).toMatchObject({ errno: 71, migrations: 0 }); // EPROTO
    expect(small.driverErrors.at(-1)?.message).toMatch(/rxFifoBytes/);
    expect(src.nic.vfInfo(0).rxPackets).toBe(2000n);
    expect(m.summary['migrations']).toBe(0);
  });

  it('a second runner resumes from the migrated guest RAM (--save-to, --resume --load-from)', async () => {
    const src = new DaemonRig('gfsrc'), dst = new DaemonRig('gfdst');
    rigs.push(src, dst);
    const ram = join('/dev/shm', `vfmed-test-ram-${process.pid}`);
    const state = join(tmpdir(), `vfmed-test-state-${process.pid}`);
    files.push(ram, state);
    const common = ['--ram-file', ram, '--ram', '16M', '--ring', '64', '--rate', '10000', '--size', '200', '--count', '2500',
      '--stats-interval', '20', '--strict'];
    const first = new GuestProcess(['loopback', '--socket', src.path(0), '--save-to', state, ...common]);
    guests.push(first);
    const loop = new WireLoop(src, dst);
    try {
      await first.waitFor((l) => l.type === 'stats' && (l['rx_tagged'] as number) > 300, 'traffic flowing');
      first.signal('SIGUSR1');
      expect((await first.exited).code, first.stderr).toBe(0);
      expect(first.line('migration')).toMatchObject({ event: 'saved' });
      expect(first.line('summary')).toMatchObject({ reason: 'saved' });
      expect(existsSync(state)).toBe(true);
      const second = new GuestProcess(['loopback', '--socket', dst.path(0), '--resume', '--load-from', state, ...common]);
      guests.push(second);
      const exit = await second.exited;
      expect(exit.code, second.stderr).toBe(0);
      expect(second.line('init')).toMatchObject({ resumed: true });
      expect(second.line('migration')).toMatchObject({ event: 'loaded' });
      expect(second.line('summary')).toMatchObject({
        reason: 'count', tx_packets: 2500, rx_tagged: 2500, rx_lost: 0, rx_duplicated: 0, rx_reordered: 0, tx_undrained: 0,
      });
      expect(dst.nic.vfInfo(0).txPackets).toBe(2500n);
    } finally {
      loop.stop();
    }
  });
});
