// vfio-pci and the PF module with an IOMMU, in a real Linux kernel: boots the Debian kernel
// in QEMU on q35 with an emulated Intel VT-d (intel_iommu=on iommu=pt). The spare ivshmem
// device is bound to uio_pci_generic and then straight to vfio-pci by `vfmed bind` (the
// project's CLI, run by the host's Node inside the guest over virtio-9p), and unbound by
// `vfmed unbind`; a static program drives it through the VFIO uAPI
// (container, group, type1 IOMMU, DMA map, device fd, regions, BAR mmap and read/write) and
// the host checks the bytes it wrote. The PF module also loads, runs an admin command and
// unloads under the IOMMU (identity domain). See docs/kernel-test.md.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mac } from '../../mediator/demo/frames.js';
import { repoRoot } from '../../mediator/native/addon.js';
import { ensureDist } from './harness/dist.js';
import { buildGuestImage, type GuestImage } from './harness/guest-image.js';
import { HostMachine, TOKEN_UIO, TOKEN_VFIO_MMAP, TOKEN_VFIO_RW, sparePattern } from './harness/host-machine.js';
import { VFPF_AQ_CTRL, VFPF_AQ_CTRL_ENABLE } from './harness/pf-regs.js';
import { QemuGuest, barBdf } from './harness/qemu-guest.js';
import { badDmesgLines, dataValue } from './harness/results.js';

const MEM_MIB = 256;

describe('vfio-pci through an emulated IOMMU in a real kernel (QEMU)', () => {
  let image: GuestImage;
  let m: HostMachine;
  let guest: QemuGuest | undefined;

  beforeAll(() => {
    ensureDist(repoRoot()); // the guest's Node runs the compiled CLI (dist/)
    image = buildGuestImage(repoRoot());
    m = new HostMachine({ maxVfs: 4, memMiB: MEM_MIB, baseMac: mac('02:4b:54:00:02:00'),
      vf0DmaIsGuestRam: false });
    m.nic.start();
  }, 600_000); // first run on a fresh machine downloads the kernel .debs

  afterAll(() => {
    guest?.kill();
    m?.destroy();
  });

  it('binds uio_pci_generic then vfio-pci, drives VFIO, and loads/unloads the PF module under VT-d', async () => {
    guest = QemuGuest.start({
      repo: repoRoot(), kernel: image.kernel, initrd: image.initrd, ramFile: m.ramFile,
      memMiB: MEM_MIB, bars: m.barFiles(), iommu: true, workDir: m.dir, timeoutSec: 300, share: '/',
      params: {
        vfmed_scenario: 'vfio', vfmed_pf: barBdf(0), vfmed_vf0: barBdf(1), vfmed_vf1: barBdf(2),
        vfmed_spare: barBdf(m.spareIndex), vfmed_repo: repoRoot(), vfmed_node: process.execPath,
      },
    });
    const g = guest;
    await g.waitFor('the guest to finish', (r) => r.end ?? undefined, 240_000);
    await g.exit(60_000);
    if (process.env.VFMED_KT_CONSOLE) console.log(g.console());
    const r = g.results();
    console.log(`[kernel-test vfio] boot to /init: ${g.bootMs} ms host time (guest uptime ${r.bootedUptime} s); ` +
      `whole run ${Date.now() - g.startedAt} ms`);

    const failed = r.steps.filter((s) => !s.ok).map((s) => `${s.step}: ${s.detail}`);
    expect(failed, g.tail(80)).toEqual([]);
    expect(r.steps.map((s) => s.step)).toEqual(['pf-load', 'pf-info', 'pf-unload', 'uio-bind',
      'uio-spare', 'vfio-bind', 'vfio-probe', 'vfio-unbind', 'kernel-clean']);
    expect(r.end).toEqual({ ok: r.steps.length, fail: 0 });

    // The IOMMU was really there: the kernel put the devices into IOMMU groups.
    expect(r.dmesg.some((l) => /DMAR: Intel\(R\) Virtualization Technology for Directed I\/O/.test(l))).toBe(true);
    const group = dataValue(r, 'vfio-bind', 'vfio-group');
    expect(r.dmesg.some((l) => l.includes(`${barBdf(m.spareIndex)}: Adding to iommu group ${group}`)),
      `vfmed bind's /dev/vfio/${group} is the group the kernel put the device in`).toBe(true);

    // The PF module ran its admin queue through the identity domain and shut it on unload.
    expect(m.pfBarWord(VFPF_AQ_CTRL) & VFPF_AQ_CTRL_ENABLE).toBe(0);

    // UIO then VFIO on the same device; what the guest read and wrote is checked here.
    expect(dataValue(r, 'uio-spare', 'word0')).toBe(`0x${sparePattern(0).toString(16).padStart(8, '0')}`);
    expect(m.spareWord(0x2008)).toBe(TOKEN_UIO);
    expect(dataValue(r, 'vfio-probe', 'vfio-config-id')).toBe('1af4:1110');
    expect(dataValue(r, 'vfio-probe', 'vfio-bar2-size')).toBe('0x10000');
    expect(dataValue(r, 'vfio-probe', 'vfio-dma-map')).toBe('ok');
    expect(m.spareWord(0x2000), 'store through the VFIO BAR mmap reached the host file').toBe(TOKEN_VFIO_MMAP);
    expect(m.spareWord(0x2004), 'pwrite on the VFIO device fd reached the host file').toBe(TOKEN_VFIO_RW);

    expect(badDmesgLines(r.dmesg), 'dmesg').toEqual([]);
  }, 360_000);
});
