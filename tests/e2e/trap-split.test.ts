// The sparse-mmap/trap split, seen from both ends through real processes: the guest
// runner maps only what the server's sparse-mmap capability offers (BAR0 pages 2-3, the
// queue registers) and traps the rest with SIGSEGV; the daemon counts every REGION_WRITE
// that reaches the device, by page and register (`vfmed status --json`).
//
//   - a store to page 0 (CTRL.RST, V2PMAILBOX) reaches the server as a REGION_WRITE, one
//     per trapped store the guest made;
//   - a store to page 2 (RDT, after every refill of the RX ring) never does, although the
//     ring wrapped many times, so the guest stored to RDT many times;
//   - with the guest told to trap everything (--trap-all) the same page-2 stores DO arrive
//     as REGION_WRITEs at RDT: the counter sees page 2 when it is trapped.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GuestProcess, type GuestExit } from '../../mediator/guest/guest-process.js';
import type { VfStatus } from '../../mediator/daemon/status.js';
import { CTRL, RDT, RXDCTL, V2PMAILBOX } from '../../mediator/hw/vf-regs.js';
import { DaemonProc } from './helpers/daemon-proc.js';

const FRAMES = 5000;
const RING = 256;
const hex = (off: number): string => `0x${off.toString(16).padStart(4, '0')}`;

async function traffic(d: DaemonProc, rxExtra: string[]): Promise<{ rx: GuestExit; tx: GuestExit; vf1: VfStatus }> {
  const rx = GuestProcess.spawn('rxsink', ['rxsink', '--socket', join(d.runDir, 'vf1.sock'), '-n', String(FRAMES),
    '--ring', String(RING), '--seq-from-zero', '--strict', '--stats-interval', '0', ...rxExtra]);
  const init = await rx.waitFor('init', 20_000);
  const tx = GuestProcess.spawn('txgen', ['txgen', '--socket', join(d.runDir, 'vf0.sock'), '-n', String(FRAMES),
    '--dst', '02:76:66:6d:01:01', '--stats-interval', '0']);
  const [et, er] = await Promise.all([tx.finish(60_000), rx.finish(60_000)]);
  expect(et.code).toBe(0);
  expect(er.code).toBe(0);
  expect(er.summary).toMatchObject({ rx_packets: FRAMES, rx_lost: 0 });
  const vf1 = (await d.status()).vfs[1]!;
  return { rx: { ...er, summary: { ...er.summary!, init } }, tx: et, vf1 };
}

describe('sparse mmap / trap split', () => {
  let d: DaemonProc | undefined;

  afterEach(async () => {
    await d?.stop();
    d?.cleanup();
    d = undefined;
  });

  it('page 0 stores arrive as REGION_WRITEs; page 2 stores (RDT) never do', async () => {
    d = await DaemonProc.start(['--max-vfs', '2', '--vfs', '2'], 'trap');
    const { rx, vf1 } = await traffic(d, []);
    const init = rx.summary!['init'] as Record<string, unknown>;
    expect(init['bar0_mapped_pages']).toEqual([2, 3]);
    expect(init['bar0_trapped_pages']).toEqual([0, 1]);

    const w = vf1.trapped.bar0.writes;
    expect(w[0]).toBeGreaterThan(0);
    expect(vf1.trapped.writesByOffset[hex(CTRL)]).toBeGreaterThanOrEqual(1);       // CTRL.RST
    expect(vf1.trapped.writesByOffset[hex(V2PMAILBOX)]).toBeGreaterThanOrEqual(2); // VF_RESET: VFU, REQ ...
    // every trapped store of the guest arrived as exactly one REGION_WRITE
    expect(w[0]! + w[1]!).toBe(rx.summary!['mmio_writes']);
    // the RX ring wrapped FRAMES / RING times: the guest stored RDT at least that often ...
    expect(vf1.rx.packets).toBe(FRAMES);
    expect(FRAMES / RING).toBeGreaterThan(10);
    // ... and none of those stores reached the server
    expect(w[2]).toBe(0);
    expect(w[3]).toBe(0);
    expect(vf1.trapped.bar0.reads[2]! + vf1.trapped.bar0.reads[3]!).toBe(0);
    expect(Object.keys(vf1.trapped.writesByOffset).filter((k) => Number(k) >= 0x2000)).toEqual([]);
  });

  it('with --trap-all the same RDT stores arrive as REGION_WRITEs (the counter sees page 2)', async () => {
    d = await DaemonProc.start(['--max-vfs', '2', '--vfs', '2'], 'trap');
    const { rx, vf1 } = await traffic(d, ['--trap-all']);
    const init = rx.summary!['init'] as Record<string, unknown>;
    expect(init['bar0_mapped_pages']).toEqual([]);
    const w = vf1.trapped.bar0.writes;
    expect(w[2]).toBeGreaterThan(FRAMES / RING);
    expect(vf1.trapped.writesByOffset[hex(RDT(0))]).toBeGreaterThan(FRAMES / RING);
    // one REGION_WRITE per trapped store, plus the two the guest makes after printing its
    // summary (RXDCTL/TXDCTL: queues disabled at teardown, page 2 and page 3)
    expect(w[0]! + w[1]! + w[2]! + w[3]!).toBe((rx.summary!['mmio_writes'] as number) + 2);
    expect(vf1.trapped.writesByOffset[hex(RXDCTL(0))]).toBeGreaterThanOrEqual(2); // enable, disable
  });
});
