// The PF driver as a real kernel module, and the UIO VF path, in a real Linux kernel: boots
// the Debian kernel in QEMU (TCG, no IOMMU) with the emulated PF's BAR, both VF BARs and a
// spare BAR as ivshmem-plain PCI devices and the guest's RAM shared with the hardware model
// (PF and VF0 DMA space). In the guest: vfpf.ko binds the PF by PCI id, its /dev/vfpf ioctls
// enable SR-IOV and set MACs; a userspace driver passes traffic on VF0 through
// uio_pci_generic; Node runs the mediator's compiled kernel-path binding (KernelPf), which
// drives every ioctl, dirty-logs VF1 and saves and loads VF1's state while the host passes
// traffic on VF1; `vfmed bind` (the project's CLI, also run by the guest's Node) binds VF0
// and a spare device to uio_pci_generic, unbinds them, and refuses vfio-pci with a clear
// "no CONFIG_VFIO_NOIOMMU" report; the module unloads cleanly, twice.
// The host checks each effect on the model and every guest result line; see
// docs/kernel-test.md.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFrame, checkFrame, mac, macString } from '../../mediator/demo/frames.js';
import { repoRoot } from '../../mediator/native/addon.js';
import { buildGuestImage, type GuestImage } from './harness/guest-image.js';
import { HostMachine, TOKEN_UIO, sparePattern } from './harness/host-machine.js';
import { ensureDist } from './harness/dist.js';
import { HOST_VF_DMA, HostVf, resetForGuest } from './harness/host-vf.js';
import { QemuGuest, barBdf } from './harness/qemu-guest.js';
import { badDmesgLines, dataValue, stepResult, type GuestResults } from './harness/results.js';
import { VFPF_AQ_CTRL, VFPF_AQ_CTRL_ENABLE } from './harness/pf-regs.js';

const MAC0 = mac('02:4b:54:00:00:10');
const MAC1 = mac('02:4b:54:00:00:11');
const PEER = mac('02:4b:54:00:00:fe');
const UIO_RX = 200;   // > 64-entry ring: the guest driver's tail wraps three times
const UIO_TX = 150;
const STREAM_UIO_RX = 1;
const STREAM_UIO_TX = 2;
const STREAM_VF1 = 3;
const MEM_MIB = 256;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const stepDone = (name: string) => (r: GuestResults) => stepResult(r, name);

describe('PF module + UIO VF in a real kernel (QEMU)', () => {
  let image: GuestImage;
  let m: HostMachine;
  let guest: QemuGuest | undefined;
  let vf1: HostVf | undefined;

  beforeAll(() => {
    ensureDist(repoRoot()); // the guest's Node runs the compiled mediator (dist/)
    image = buildGuestImage(repoRoot());
    m = new HostMachine({ maxVfs: 4, memMiB: MEM_MIB, baseMac: mac('02:4b:54:00:01:00'),
      vf0DmaIsGuestRam: true });
    m.nic.start();
  }, 600_000); // first run on a fresh machine downloads the kernel .debs

  afterAll(() => {
    guest?.kill();
    vf1?.close();
    m?.destroy();
  });

  it('loads vfpf.ko, drives the PF admin queue, passes UIO traffic, saves/loads a VF under traffic, unloads clean', async () => {
    const bars = m.barFiles(); // PF, VF0..VF3, spare
    guest = QemuGuest.start({
      repo: repoRoot(), kernel: image.kernel, initrd: image.initrd, ramFile: m.ramFile,
      memMiB: MEM_MIB, bars, iommu: false, workDir: m.dir, timeoutSec: 400, share: '/',
      params: {
        vfmed_scenario: 'pf', vfmed_pf: barBdf(0), vfmed_vf0: barBdf(1), vfmed_vf1: barBdf(2),
        vfmed_spare: barBdf(m.spareIndex), vfmed_mac0: macString(MAC0), vfmed_mac1: macString(MAC1),
        vfmed_peer: macString(PEER), vfmed_rx: String(UIO_RX), vfmed_tx: String(UIO_TX),
        vfmed_repo: repoRoot(), vfmed_node: process.execPath,
        vfmed_vf1_dma: `0x${HOST_VF_DMA.iova.toString(16)}:0x${HOST_VF_DMA.size.toString(16)}`,
      },
    });
    const g = guest;

    // -- SR-IOV enable and MACs, set by the guest's module through the admin queue ----------
    await g.waitFor('the guest to set the VF MACs', stepDone('pf-mac'), 120_000);
    expect(stepResult(g.results(), 'pf-mac')?.ok, g.tail()).toBe(true);
    for (const [vf, want] of [[0, MAC0], [1, MAC1]] as const) {
      const info = m.nic.vfInfo(vf);
      expect(info.enabled, `VF${vf} enabled by the module's SRIOV_ENABLE`).toBe(true);
      expect(macString(info.mac), `VF${vf} RAR filter set by VF_SET_MAC`).toBe(macString(want));
    }
    expect(m.pfBarWord(VFPF_AQ_CTRL) & VFPF_AQ_CTRL_ENABLE, 'admin queue enabled').toBe(VFPF_AQ_CTRL_ENABLE);

    // -- VF0 reset handshake for the guest's UIO driver; the module answers VF_RESET ---------
    const given0 = resetForGuest(m.addon, m.nic, 0);
    expect(macString(given0), 'VF_RESET reply carries the MAC the module assigned').toBe(macString(MAC0));

    // -- VF1 brought up and fed from the host; the module answers its mailbox too ------------
    vf1 = new HostVf(m.addon, m.nic, 1, PEER, STREAM_VF1);
    expect(macString(vf1.mac)).toBe(macString(MAC1));

    // -- Traffic: VF0 (guest UIO driver) and VF1 (host) at the same time ---------------------
    let injected0 = 0;
    const tx0: number[] = [];
    const txErrors: string[] = [];
    let vf1Inject = true;
    for (;;) {
      const r = g.results();
      // VF0: inject once the guest driver posted its RX ring (queue enabled, tail moved).
      const q0 = m.nic.vfInfo(0).queues[0];
      if (injected0 < UIO_RX && q0.rxEnabled && q0.rxTail !== 0) {
        const info = m.nic.vfInfo(0);
        for (let k = 0; k < 8 && injected0 < UIO_RX; k++) {
          const len = 60 + ((injected0 * 131) % 1400);
          if (info.fifoBytes + len * (k + 1) + 64 > info.fifoCapacity) break;
          m.nic.uplinkInject(buildFrame({ dst: MAC0, src: PEER, stream: STREAM_UIO_RX, seq: injected0, len }));
          injected0++;
        }
      }
      for (let f = m.nic.uplinkTake(); f; f = m.nic.uplinkTake()) {
        try {
          const p = checkFrame(f);
          if (p.stream !== STREAM_UIO_TX || macString(p.src) !== macString(MAC0) || macString(p.dst) !== macString(PEER)) {
            txErrors.push(`unexpected frame on the uplink: stream ${p.stream} ${macString(p.src)} -> ${macString(p.dst)}`);
          } else {
            tx0.push(p.seq);
          }
        } catch (e) {
          txErrors.push((e as Error).message);
        }
      }
      vf1.pump(2, vf1Inject);
      if (stepResult(r, 'node-kernel-pf') && vf1Inject) vf1Inject = false; // then drain
      if (r.end || g.hasExited) break;
      await sleep(15);
    }
    // Drain VF1: everything injected must arrive, including the frames that sat in the RX
    // FIFO while the VF was quiesced and travelled through the saved/loaded state.
    // (The frames the sealed VF refused never arrive: they are accounted for separately.)
    const pending = () => vf1!.counters.injected - vf1!.counters.received - vf1!.counters.dropped.length;
    for (let i = 0; i < 400 && pending() > 0; i++) {
      vf1.pump(0, false);
      await sleep(10);
    }
    await g.exit(60_000);
    if (process.env.VFMED_KT_CONSOLE) console.log(g.console());
    const r = g.results();
    console.log(`[kernel-test pf] boot to /init: ${g.bootMs} ms host time (guest uptime ${r.bootedUptime} s); ` +
      `whole run ${Date.now() - g.startedAt} ms; image build ${image.buildMs} ms`);

    // -- Every guest step passed -------------------------------------------------------------
    const failed = r.steps.filter((s) => !s.ok).map((s) => `${s.step}: ${s.detail}`);
    expect(failed, g.tail(80)).toEqual([]);
    expect(r.end, 'the guest reached VFMED-END').toEqual({ ok: r.steps.length, fail: 0 });
    const expectedSteps = ['pf-load', 'pf-info', 'pf-sriov', 'pf-mac', 'pf-errors', 'vf0-ready',
      'uio-bind', 'uio-traffic', 'uio-spare', 'uio-unbind', 'vf1-ready', 'node-kernel-pf',
      'noiommu-report', 'vfio-bind-refused', 'vfio-kernel-refuses', 'pf-unload', 'pf-reload',
      'pf-reload-info', 'pf-unload-again', 'kernel-clean'];
    expect(r.steps.map((s) => s.step)).toEqual(expectedSteps);

    // -- The mediator's KernelPf, in the guest's Node, reached the module's ioctls ----------
    expect(dataValue(r, 'node-kernel-pf', 'node-num-vfs')).toBe('2');
    expect(dataValue(r, 'node-kernel-pf', 'node-vf0-mac')).toBe(macString(MAC0));
    expect(dataValue(r, 'node-kernel-pf', 'node-vf3-errno')).toBe('ENODEV');
    expect(dataValue(r, 'node-kernel-pf', 'flr-vf0')).toBe('rx-tx-off');
    expect(m.nic.vfInfo(0).enabled, 'VF0 still an enabled VF after its FLR').toBe(true);

    // -- UIO passthrough traffic, checked on both ends -------------------------------------
    expect(injected0).toBe(UIO_RX);
    expect(dataValue(r, 'uio-traffic', 'uio-rx-frames')).toBe(String(UIO_RX));
    expect(txErrors).toEqual([]);
    expect(tx0, 'guest TX frames reach the uplink once each, in order').toEqual(
      Array.from({ length: UIO_TX }, (_, i) => i));
    const pa = BigInt(dataValue(r, 'uio-traffic', 'uio-dma-pa'));
    expect(pa > 0n && pa + (2n << 20n) <= m.memBytes, 'the UIO DMA hugepage lies in guest RAM').toBe(true);

    // -- VF1 state saved and loaded while traffic flowed ----------------------------------
    // Every frame the device accepted arrived exactly once, in order, intact: those waiting
    // in the RX FIFO at VF_SAVE travelled through the blob and were delivered after
    // VF_LOAD + VF_RESUME. The only frames missing are the ones the sealed VF refused
    // (inject -ENOSPC, counted) between VF_SAVE and VF_LOAD: one contiguous run.
    const c1 = vf1.counters;
    console.log(`[kernel-test pf] VF1 under save/load: ${c1.injected} frames offered, ${c1.received} received, ` +
      `${c1.dropped.length} refused while sealed, ${c1.heldBack} ticks held back for FIFO room`);
    expect(vf1.frameErrors).toEqual([]);
    expect(c1.injected).toBeGreaterThan(0);
    expect(c1.received + c1.dropped.length).toBe(c1.injected);
    if (c1.dropped.length > 0) {
      const d = c1.dropped;
      expect(d[d.length - 1]! - d[0]! + 1, `refused frames form one window: ${d.join(',')}`).toBe(d.length);
    }
    expect(Number(dataValue(r, 'node-kernel-pf', 'fifo-frames-at-save')),
      'frames were in flight (in the RX FIFO) when the state was saved').toBeGreaterThanOrEqual(2);
    expect(Number(dataValue(r, 'node-kernel-pf', 'state-bytes'))).toBeGreaterThan(0);
    expect(dataValue(r, 'node-kernel-pf', 'corrupt-load')).toBe('EBADMSG');
    expect(macString(m.nic.vfInfo(1).mac)).toBe(macString(MAC1));

    // -- VF1's device dirty log, read in the guest through DeviceLogTracker(PfDirtyLog(KernelPf))
    // Frames arrived while it ran: the pages reported are ones the device may write for VF1
    // (its rings and RX buffers, nothing else in its DMA space), and they include the RX
    // descriptor ring, which every received frame writes back into.
    const dirty = dataValue(r, 'node-kernel-pf', 'dirty-pages').split(',').filter(Boolean).map(Number);
    const { writable, rxRings } = vf1.devicePages();
    console.log(`[kernel-test pf] VF1 dirty log: ${dataValue(r, 'node-kernel-pf', 'dirty-frames')} frames, ` +
      `${dirty.length} pages dirty of ${writable.size} the device may write`);
    expect(dirty.length).toBeGreaterThan(0);
    expect(dirty.filter((p) => !writable.has(p)), 'dirty pages outside VF1\'s rings and buffers').toEqual([]);
    expect(dirty.some((p) => rxRings.has(p)), 'the RX descriptor ring was reported dirty').toBe(true);

    // -- vfmed's no-IOMMU report: the kernel option it lacks, and what to do instead --------
    // (both commands failed in the guest, and the device stayed unbound)
    expect(dataValue(r, 'noiommu-report', 'message')).toMatch(/built without CONFIG_VFIO_NOIOMMU/);
    const refusal = dataValue(r, 'vfio-bind-refused', 'message');
    expect(refusal).toMatch(new RegExp(`^vfmed bind: .*${barBdf(m.spareIndex)} has no IOMMU group`));
    expect(refusal).toMatch(/built without CONFIG_VFIO_NOIOMMU/);
    expect(refusal).toMatch(/intel_iommu=on.*uio_pci_generic/);

    // -- UIO on the spare device: the guest read the host's bytes and wrote back ------------
    expect(dataValue(r, 'uio-spare', 'word0')).toBe(`0x${sparePattern(0).toString(16).padStart(8, '0')}`);
    expect(m.spareWord(0x2008)).toBe(TOKEN_UIO);

    // -- Clean unload: admin queue off, kernel neither warned nor tainted beyond O/E --------
    expect(m.pfBarWord(VFPF_AQ_CTRL) & VFPF_AQ_CTRL_ENABLE, 'admin queue disabled by remove()').toBe(0);
    expect(badDmesgLines(r.dmesg), 'dmesg').toEqual([]);
    expect(r.dmesg.some((l) => l.includes('vfpf')), 'the dmesg copy is real').toBe(true);
  }, 480_000);
});
