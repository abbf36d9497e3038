// `vfmed demo` end to end as a child process.
//
// The default (README's main command): the embedded daemon with 2 VFs and two guest runner
// processes (loopback on VF0, fwd on VF1): the result must show every frame back exactly
// once, the device's and the PF driver's counters agreeing, and no doorbell trapped.
// `--in-process`: the emulated PF with 2 VFs, the PF driver (libvfpf), two TypeScript
// poll-mode drivers, and verified traffic. Checks the JSON result against what the
// traffic plan implies (frames per stream, who receives what), and that the device's,
// the VF registers' and the PF driver's counters agree with it.
import { describe, expect, it } from 'vitest';
import { vfmed } from './run-vfmed.js';

const N = 48;

interface Receiver { receiver: string; verified: number; corrupt: number; lost: number; duplicate: number }
interface Result {
  ok: boolean;
  framesPerStream: number;
  streams: { name: string; sent: number; receivers: Receiver[] }[];
  vfs: {
    vf: number; mac: string;
    driver: { txFrames: number; rxFrames: number; rxBytes: number };
    device: {
      txPackets: number; rxPackets: number; txBytes: number; rxBytes: number;
      fifoDrops: number; dmaErrors: number; txErrors: number;
    };
    regs: { gptc: number; gprc: number; gorc: number; gptlbc: number; gprlbc: number };
    pf: { txPackets: number; rxPackets: number; rxBytes: number; txBytes: number };
  }[];
  uplink: { frames: number };
  problems: string[];
}

describe('vfmed demo --in-process', () => {
  it(`passes ${N} frames per stream VF0->VF1, VF1->VF0 and broadcast, all verified`, () => {
    const r = vfmed(['demo', '--in-process', '--frames', String(N), '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const res = JSON.parse(r.stdout) as Result;
    expect(res.ok).toBe(true);
    expect(res.problems).toEqual([]);
    expect(res.framesPerStream).toBe(N);
    expect(res.streams.map((s) => s.name)).toEqual(['VF0->VF1', 'VF1->VF0', 'VF0->bcast', 'VF1->bcast']);
    const receivers = res.streams.map((s) => s.receivers.map((x) => x.receiver));
    expect(receivers).toEqual([['vf1'], ['vf0'], ['vf1', 'uplink'], ['vf0', 'uplink']]);
    for (const s of res.streams) {
      expect(s.sent).toBe(N);
      for (const x of s.receivers) expect(x).toEqual({ receiver: x.receiver, verified: N, corrupt: 0, lost: 0, duplicate: 0 });
    }
    expect(res.uplink.frames).toBe(2 * N);
    // the MACs the PF driver assigned (not the NIC's defaults 02:76:66:6d:00:0n)
    expect(res.vfs.map((v) => v.mac)).toEqual(['02:76:66:6d:01:00', '02:76:66:6d:01:01']);
    for (const v of res.vfs) {
      // each VF sends one unicast and one broadcast stream and receives the other VF's two
      expect(v.driver).toMatchObject({ txFrames: 2 * N, rxFrames: 2 * N });
      expect(v.device.txPackets).toBe(2 * N);
      expect(v.device.rxPackets).toBe(2 * N);
      expect(v.regs.gptc).toBe(2 * N);
      expect(v.regs.gprc).toBe(2 * N);
      // every VF-to-VF frame is switched internally (loopback counters)
      expect(v.regs.gptlbc).toBe(2 * N);
      expect(v.regs.gprlbc).toBe(2 * N);
      // the device counts the bytes the driver received; the VF register adds 4 bytes of
      // CRC per packet, as the 82576 (and QEMU) do
      expect(v.device.rxBytes).toBe(v.driver.rxBytes);
      expect(v.regs.gorc).toBe(v.driver.rxBytes + 4 * 2 * N);
      // the PF driver reads the same device counters through the admin queue
      expect(v.pf.txPackets).toBe(v.device.txPackets);
      expect(v.pf.rxPackets).toBe(v.device.rxPackets);
      expect(v.pf.rxBytes).toBe(v.device.rxBytes);
      expect(v.pf.txBytes).toBe(v.device.txBytes);
      expect([v.device.fifoDrops, v.device.dmaErrors, v.device.txErrors]).toEqual([0, 0, 0]);
    }
  });

  it('prints the summary tables and PASS by default', () => {
    const r = vfmed(['demo', '--in-process', '-n', '8']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/VF0->VF1/);
    expect(r.stdout).toMatch(/driver: frames sent/);
    expect(r.stdout).toMatch(/PASS: 4 streams x 8 frames \(32\) delivered and verified byte for byte, in order/);
  });
});

interface RunnerResult {
  ok: boolean;
  frames: number;
  frameBytes: number;
  guests: Array<{ vf: number; workload: string; exitCode: number; sent: number; received: number; forwarded: number;
    lost: number; duplicated: number; reordered: number; corrupted: number; mmioWrites: number; bar0MappedPages: number[] }>;
  vfs: Array<{ vf: number; mac: string; tx: { packets: number; bytes: number }; rx: { packets: number; bytes: number; fifoDrops: number };
    pf: { txPackets: number; rxPackets: number }; trapped: { bar0: { reads: number[]; writes: number[] } } }>;
  uplinkFrames: number;
  problems: string[];
}

describe('vfmed demo (daemon + two guest runners)', () => {
  it('every frame makes the round trip VF0 -> VF1 -> VF0 once, and the counters agree', () => {
    const n = 20_000;
    const r = vfmed(['demo', '--frames', String(n), '--size', '128', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const res = JSON.parse(r.stdout) as RunnerResult;
    expect(res).toMatchObject({ ok: true, frames: n, frameBytes: 128, uplinkFrames: 0, problems: [] });
    const [a, b] = res.guests;
    expect(a).toMatchObject({ vf: 0, workload: 'loopback', exitCode: 0, sent: n, received: n, lost: 0, duplicated: 0,
      reordered: 0, corrupted: 0, bar0MappedPages: [2, 3] });
    expect(b).toMatchObject({ vf: 1, workload: 'fwd', exitCode: 0, forwarded: n, bar0MappedPages: [2, 3] });
    expect(res.vfs.map((v) => v.mac)).toEqual(['02:76:66:6d:01:00', '02:76:66:6d:01:01']);
    res.vfs.forEach((v, i) => {
      expect(v.tx).toEqual({ packets: n, bytes: n * 128, errors: 0 });
      expect(v.rx).toEqual({ packets: n, bytes: n * 128, fifoDrops: 0 });
      expect([Number(v.pf.txPackets), Number(v.pf.rxPackets)]).toEqual([n, n]);
      // the trapped stores of each guest (pages 0-1) reached the server one for one
      expect(v.trapped.bar0.writes[0]! + v.trapped.bar0.writes[1]!).toBe(res.guests[i]!.mmioWrites);
      expect(v.trapped.bar0.writes.slice(2)).toEqual([0, 0]);
    });
  });

  it('prints the tables and PASS by default', () => {
    const r = vfmed(['demo', '-n', '1000']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/│ A +│ vf0 │ 02:76:66:6d:01:00 │ loopback │ +1000 │ +1000 │/);
    expect(r.stdout).toMatch(/│ B +│ vf1 │ 02:76:66:6d:01:01 │ fwd +│/);
    expect(r.stdout).toMatch(/REGION_WRITEs, BAR0 page 0\/1\/2\/3/);
    expect(r.stdout).toMatch(/^PASS: 1000 frames VF0 -> VF1 -> VF0, each back exactly once, in order, intact; queue doorbells \(pages 2-3\) all passthrough$/m);
  });
});
