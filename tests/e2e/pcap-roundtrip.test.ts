// pcap in -> VF -> pcap out, through the daemon's uplink backends, judged by tcpdump and
// tshark (independent readers of both files):
//
//   1. `vfmed replay in.pcap` into the uplink -> VF0 -> a `fwd` guest runner (MAC swap)
//      -> uplink -> `--capture out.pcap`: frame for frame the same bytes, except the two
//      MAC fields a forwarder rewrites; nothing lost, nothing extra, same order.
//   2. a `txgen --pcap in.pcap --no-stamp` guest runner sends a pcap's frames through
//      VF0 -> uplink -> capture: identical, byte for byte, frame for frame.
// A nanosecond-resolution input is replayed like a microsecond one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GuestProcess } from '../../mediator/guest/guest-process.js';
import { DaemonProc, vfmedOk } from './helpers/daemon-proc.js';
import { forwardedBy, mixedFrames, tcpdumpFrames, tsharkCheck, writePcap } from './helpers/pcap.js';

const VF0_MAC = Buffer.from('0276666d0100', 'hex');
const N = 1000;

describe('pcap in -> VF -> pcap out', () => {
  let d: DaemonProc | undefined;
  let dir: string | undefined;
  const guests: GuestProcess[] = [];

  afterEach(async () => {
    for (const g of guests.splice(0)) g.kill('SIGKILL');
    await d?.stop();
    d?.cleanup();
    d = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.each([false, true])('replay into the uplink, forwarded by a guest, captured (nanosecond input: %s)', async (nanosecond) => {
    dir = mkdtempSync(join(tmpdir(), 'vfmed-pcap-'));
    const inFile = join(dir, 'in.pcap');
    const outFile = join(dir, 'out.pcap');
    const frames = mixedFrames(VF0_MAC, N);
    writePcap(inFile, frames, { nanosecond });
    expect(tcpdumpFrames(inFile)).toEqual(frames); // the input is what we think it is

    d = await DaemonProc.start(['--max-vfs', '1', '--vfs', '1', '--capture', outFile], 'pcap');
    const fwd = GuestProcess.spawn('fwd', ['fwd', '--socket', join(d.runDir, 'vf0.sock'), '-n', String(N),
      '--stats-interval', '0']);
    guests.push(fwd);
    await fwd.waitFor('init', 20_000);

    const rep = JSON.parse(await vfmedOk(['replay', inFile, '--rate', '20000', '--json', ...d.dirArgs])) as
      { state: string; injected: number; dropped: number; passes: number };
    expect(rep).toMatchObject({ state: 'done', injected: N, dropped: 0, passes: 1 });
    const ex = await fwd.finish(30_000);
    expect(ex.code).toBe(0);
    expect(ex.summary).toMatchObject({ reason: 'count', fwd_frames: N, rx_packets: N, tx_packets: N, tx_drops: 0 });

    const st = await d.status();
    expect(st.vfs[0]!.rx.fifoDrops).toBe(0);
    expect(st.uplink.capture).toMatchObject({ frames: N, error: null });
    expect(await d.stop()).toEqual({ code: 0, signal: null }); // finishes the capture file

    const check = tsharkCheck(outFile);
    expect(check).toEqual({ status: 0, frames: N, stderr: '' });
    const out = tcpdumpFrames(outFile);
    expect(out).toHaveLength(N);
    for (let i = 0; i < N; i++) {
      if (!out[i]!.equals(forwardedBy(VF0_MAC, frames[i]!))) {
        throw new Error(`frame ${i} differs: in ${frames[i]!.toString('hex', 0, 32)}… out ${out[i]!.toString('hex', 0, 32)}…`);
      }
    }
  });

  it('a guest sends a pcap through its VF; the uplink capture is identical frame for frame', async () => {
    dir = mkdtempSync(join(tmpdir(), 'vfmed-pcap-'));
    const inFile = join(dir, 'in.pcap');
    const outFile = join(dir, 'out.pcap');
    // To somewhere outside the NIC (no VF owns the MAC) or broadcast: all leave by the
    // uplink. txgen pads runts to 60 bytes like a NIC, so every frame here is >= 60.
    const frames = mixedFrames(Buffer.from('020000ffee01', 'hex'), N).filter((f) => f.length >= 60);
    writePcap(inFile, frames);
    d = await DaemonProc.start(['--max-vfs', '1', '--vfs', '1', '--capture', outFile], 'pcap');
    const tx = GuestProcess.spawn('txgen', ['txgen', '--socket', join(d.runDir, 'vf0.sock'), '--pcap', inFile,
      '--no-stamp', '-n', String(frames.length), '--stats-interval', '0']);
    guests.push(tx);
    const ex = await tx.finish(30_000);
    expect(ex.code).toBe(0);
    expect(ex.summary).toMatchObject({ tx_packets: frames.length, tx_undrained: 0 });
    expect(await d.stop()).toEqual({ code: 0, signal: null });

    expect(tsharkCheck(outFile)).toEqual({ status: 0, frames: frames.length, stderr: '' });
    const out = tcpdumpFrames(outFile);
    expect(out.length).toBe(frames.length);
    out.forEach((f, i) => {
      if (!f.equals(frames[i]!)) throw new Error(`frame ${i} differs`);
    });
  });
});
