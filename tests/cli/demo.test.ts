// `vfmed demo` end to end as a child process: the emulated PF with 2 VFs, the PF driver
// (libvfpf), two poll-mode drivers, and verified traffic. Checks the JSON result against
// what the traffic plan implies (frames per stream, who receives what), and that the
// device's, the VF registers' and the PF driver's counters agree with it.
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

describe('vfmed demo', () => {
  it(`passes ${N} frames per stream VF0->VF1, VF1->VF0 and broadcast, all verified`, () => {
    const r = vfmed(['demo', '--frames', String(N), '--json']);
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
    const r = vfmed(['demo', '-n', '8']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/VF0->VF1/);
    expect(r.stdout).toMatch(/driver: frames sent/);
    expect(r.stdout).toMatch(/PASS: 4 streams x 8 frames \(32\) delivered and verified byte for byte, in order/);
  });
});
