// End to end through real sockets and real processes: `vfmed start` (daemon process),
// `vfmed bind --vfs 2` (control socket), two `vfmed guest --vf N` runners (vfio-user
// clients with their own guest RAM), 1 000 000 tagged frames VF0 -> VF1 through the
// switch. The receiver verifies every frame (per-stream sequence numbers, CRC-32 over the
// frame): none lost, duplicated, reordered or corrupted; the device's counters, read back
// with `vfmed status --json`, agree; then unbind and stop leave nothing behind.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GuestProcess } from '../../mediator/guest/guest-process.js';
import type { DaemonStatus } from '../../mediator/daemon/status.js';
import { cliMain, DaemonProc, vfmedOk, vfmedRun } from './helpers/daemon-proc.js';

const FRAMES = 1_000_000;
const STREAMS = 4;

describe('1 million frames VF0 -> VF1 between two guest runners', () => {
  let d: DaemonProc;

  beforeAll(async () => {
    d = await DaemonProc.start(['--max-vfs', '2', '--log-level', 'info'], 'million');
  });

  afterAll(async () => {
    await d?.stop();
    d?.cleanup();
  });

  it('binds, runs both guests, and every frame arrives once, in order, intact', async () => {
    const bound = await vfmedOk(['bind', '--vfs', '2', '--json', ...d.dirArgs]);
    const vfs = (JSON.parse(bound) as { vfs: Array<{ vf: number; mac: string; socket: string }> }).vfs;
    expect(vfs.map((v) => v.vf)).toEqual([0, 1]);
    for (const v of vfs) expect(existsSync(v.socket)).toBe(true);

    const via = [process.execPath, cliMain, 'guest'];
    const rx = GuestProcess.spawn('rxsink', ['rxsink', '--vf', '1', ...d.dirArgs, '-n', String(FRAMES), '--streams',
      String(STREAMS), '--seq-from-zero', '--strict', '--stats-interval', '0'], { via });
    const init = await rx.waitFor('init', 20_000);
    expect(init).toMatchObject({ link_up: true, mode: 'vfio-user', pci_id: '8086:10ca' });

    const during = await d.status();
    expect(during.vfs[1]!.client?.pid).toBeGreaterThan(0);

    const t0 = Date.now();
    const tx = GuestProcess.spawn('txgen', ['txgen', '--vf', '0', ...d.dirArgs, '-n', String(FRAMES), '--streams',
      String(STREAMS), '--dst', vfs[1]!.mac, '--stats-interval', '0'], { via });
    const [et, er] = await Promise.all([tx.finish(50_000), rx.finish(50_000)]);
    const secs = (Date.now() - t0) / 1000;
    console.log(`1M frames VF0 -> VF1 in ${secs.toFixed(2)} s (txgen start to rxsink exit)`);

    expect(et.stderr).toBe('');
    expect(et.code).toBe(0);
    expect(er.code).toBe(0); // --strict: 3 on any loss, duplicate, reordering or corruption
    expect(et.summary).toMatchObject({ reason: 'count', tx_packets: FRAMES, tx_undrained: 0 });
    expect(er.summary).toMatchObject({
      reason: 'count', rx_packets: FRAMES, rx_tagged: FRAMES, rx_lost: 0, rx_duplicated: 0,
      rx_reordered: 0, rx_stale: 0, rx_corrupted: 0, rx_untagged: 0,
    });
    const streams = er.summary!['streams'] as Array<{ id: number; received: number; lost: number }>;
    expect(streams.map((s) => [s.id, s.received, s.lost])).toEqual(
      Array.from({ length: STREAMS }, (_, i) => [i, FRAMES / STREAMS, 0]));

    const st = JSON.parse(await vfmedOk(['status', '--json', ...d.dirArgs])) as DaemonStatus;
    const [v0, v1] = st.vfs;
    expect(v0).toMatchObject({ tx: { packets: FRAMES, bytes: FRAMES * 60, errors: 0 }, client: null, attaches: 1 });
    expect(v1).toMatchObject({ rx: { packets: FRAMES, bytes: FRAMES * 60, fifoDrops: 0 }, client: null, attaches: 1 });
    expect(v0!.dmaErrors + v1!.dmaErrors).toBe(0);
    expect(st.uplink.egress.frames).toBe(0); // unicast to a known VF never floods the wire

    expect((await vfmedOk(['unbind', ...d.dirArgs])).trim()).toBe('2 VFs unbound');
    for (const v of vfs) expect(existsSync(v.socket)).toBe(false);
    const stopped = await vfmedRun(['stop', ...d.dirArgs]);
    expect(stopped.code).toBe(0);
    expect(await d.exited).toEqual({ code: 0, signal: null });
    expect(existsSync(d.control)).toBe(false);
    expect(d.log()).toMatch(/"msg":"vfmed daemon stopped"/);
  });
});
