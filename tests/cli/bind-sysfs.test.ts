// `vfmed bind` / `vfmed unbind` for real PCI devices, run as a separate process against a
// prepared sysfs tree (--sysfs-root) whose fake kernel reacts to the writes (see
// helpers/fake-sysfs.ts): the exact write sequence, the result, the device node, the
// no-IOMMU refusal when the kernel lacks CONFIG_VFIO_NOIOMMU, and one-line errors with a
// non-zero status for every wrong address, missing device or permission problem.
import { chmodSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeSysfs, type FakeSysfsOptions } from './helpers/fake-sysfs.js';
import { vfmedAsync } from './run-vfmed.js';

const VF = { bdf: '0000:03:10.0', vendor: '8086', device: '10ca', driver: 'igbvf' };
const VF2 = { bdf: '0000:03:10.2', vendor: '8086', device: '10ca', driver: 'igbvf' };

let sys: FakeSysfs | undefined;
function tree(o: FakeSysfsOptions): FakeSysfs {
  sys = new FakeSysfs(o);
  return sys;
}

afterEach(() => {
  sys?.close();
  sys = undefined;
});

function oneLineError(r: { code: number | null; stdout: string; stderr: string }, code: number, msg: RegExp): void {
  expect(r.code).toBe(code);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(msg);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('vfmed bind (real PCI, prepared sysfs)', () => {
  it('uio_pci_generic: unbind from igbvf, driver_override, drivers_probe; unbind gives it back', async () => {
    const s = tree({ devices: [VF] });
    const r = await vfmedAsync(['bind', '03:10.0', '--driver', 'uio_pci_generic', '--sysfs-root', s.root, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([{
      bdf: '0000:03:10.0', driver: 'uio_pci_generic', previousDriver: 'igbvf', alreadyBound: false,
      devnode: '/dev/uio0', devnodeChecked: false, iommuGroup: null, noiommu: false,
    }]);
    expect(s.writes.map((w) => [w.file, w.value])).toEqual([
      ['/bus/pci/drivers/igbvf/unbind', '0000:03:10.0'],
      ['/bus/pci/devices/0000:03:10.0/driver_override', 'uio_pci_generic'],
      ['/bus/pci/drivers_probe', '0000:03:10.0'],
    ]);
    expect(s.driverOf(VF.bdf)).toBe('uio_pci_generic');

    const again = await vfmedAsync(['bind', VF.bdf, '--sysfs-root', s.root]);
    expect(again.stdout).toBe('0000:03:10.0 already bound to uio_pci_generic: /dev/uio0\n');

    const u = await vfmedAsync(['unbind', VF.bdf, '--sysfs-root', s.root]);
    expect(u.stderr).toBe('');
    expect(u.stdout).toBe('0000:03:10.0 unbound from uio_pci_generic, now bound to igbvf\n');
    expect(s.driverOf(VF.bdf)).toBe('igbvf');
    expect(s.writes.slice(3).map((w) => [w.file, w.value])).toEqual([
      ['/bus/pci/drivers/uio_pci_generic/unbind', '0000:03:10.0'],
      ['/bus/pci/devices/0000:03:10.0/driver_override', '\n'],
      ['/bus/pci/drivers_probe', '0000:03:10.0'],
    ]);
  });

  it('vfio-pci with an IOMMU group: /dev/vfio/<group>', async () => {
    const s = tree({ devices: [{ ...VF, iommuGroup: 7 }] });
    const r = await vfmedAsync(['bind', VF.bdf, '--driver', 'vfio-pci', '--sysfs-root', s.root]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('0000:03:10.0 bound to vfio-pci (was igbvf): /dev/vfio/7\n');
  });

  it('vfio-pci refuses a group that still has a device bound to a host driver', async () => {
    const s = tree({ devices: [{ ...VF, iommuGroup: 7 }, { ...VF2, iommuGroup: 7 }] });
    const r = await vfmedAsync(['bind', VF.bdf, '--driver', 'vfio-pci', '--sysfs-root', s.root]);
    oneLineError(r, 1, /^vfmed bind: VFMED_ERR_PCI_GROUP: IOMMU group 7 also holds 0000:03:10\.2, bound to igbvf: the group is not viable/);
  });

  it('vfio-pci without IOMMU group on a kernel without CONFIG_VFIO_NOIOMMU: a clear refusal, nothing written', async () => {
    const s = tree({ devices: [VF] });
    const r = await vfmedAsync(['bind', VF.bdf, '--driver', 'vfio-pci', '--unsafe-noiommu', '--sysfs-root', s.root]);
    oneLineError(r, 1, /^vfmed bind: VFMED_ERR_NOIOMMU: 0000:03:10\.0 has no IOMMU group and VFIO cannot run without an IOMMU: this kernel is built without CONFIG_VFIO_NOIOMMU .*bind to uio_pci_generic$/);
    expect(s.writes).toEqual([]);
    expect(s.driverOf(VF.bdf)).toBe('igbvf');
    const chk = await vfmedAsync(['bind', '--check-noiommu', '--sysfs-root', s.root]);
    expect(chk.code).toBe(1);
    expect(chk.stdout).toMatch(/built without CONFIG_VFIO_NOIOMMU/);
  });

  it('no-IOMMU mode available but off: needs --unsafe-noiommu, then binds to noiommu-<group>', async () => {
    const s = tree({ devices: [VF], noiommu: 'N' });
    const refused = await vfmedAsync(['bind', VF.bdf, '--driver', 'vfio-pci', '--sysfs-root', s.root]);
    oneLineError(refused, 1, /no-IOMMU mode exists but is off: pass --unsafe-noiommu/);
    expect(s.writes).toEqual([]);
    const r = await vfmedAsync(['bind', VF.bdf, '--driver', 'vfio-pci', '--unsafe-noiommu', '--sysfs-root', s.root, '--json']);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)[0]).toMatchObject({ driver: 'vfio-pci', devnode: '/dev/vfio/noiommu-100', noiommu: true });
    expect(s.writes[0]).toEqual({ file: '/module/vfio/parameters/enable_unsafe_noiommu_mode', value: 'Y' });
  });

  it('--method new-id writes the id to the driver and binds every matching device', async () => {
    const s = tree({ devices: [{ ...VF, driver: null }, { ...VF2, driver: null }] });
    const r = await vfmedAsync(['bind', VF.bdf, '--method', 'new-id', '--sysfs-root', s.root]);
    expect(r.stderr).toBe('');
    expect(s.writes.map((w) => [w.file, w.value])).toEqual([['/bus/pci/drivers/uio_pci_generic/new_id', '8086 10ca']]);
    expect(s.driverOf(VF.bdf)).toBe('uio_pci_generic');
    expect(s.driverOf(VF2.bdf)).toBe('uio_pci_generic'); // why override is the default
  });

  it('a driver that is not there: said so, nothing written', async () => {
    const s = tree({ devices: [VF], drivers: ['igbvf', 'vfio-pci'] });
    const missing = await vfmedAsync(['bind', VF.bdf, '--sysfs-root', s.root]);
    oneLineError(missing, 1, /^vfmed bind: VFMED_ERR_PCI_DRIVER: driver uio_pci_generic is not available \(not loaded\)$/);
    expect(s.writes).toEqual([]);
  });

  it('a device the driver does not take: the override is cleared and the device goes back to its driver', async () => {
    const s = tree({ devices: [VF], refuse: [VF.bdf] });
    const r = await vfmedAsync(['bind', VF.bdf, '--sysfs-root', s.root]);
    oneLineError(r, 1, /^vfmed bind: VFMED_ERR_PCI_KERNEL: uio_pci_generic did not bind 0000:03:10\.0 \(see dmesg .*\); the device is now bound to igbvf$/);
    expect(s.writes.slice(-2).map((w) => [w.file, w.value])).toEqual([
      ['/bus/pci/devices/0000:03:10.0/driver_override', '\n'],
      ['/bus/pci/drivers_probe', '0000:03:10.0'],
    ]);
    expect(s.driverOf(VF.bdf)).toBe('igbvf');
  });

  it.each([
    ['a malformed address', ['bind', '3:10.0'], 1, /VFMED_ERR_PCI_ADDRESS: '3:10\.0' is not a PCI address/],
    ['a missing device', ['bind', '0000:09:00.0'], 1, /VFMED_ERR_PCI_NODEV: no PCI device 0000:09:00\.0/],
    ['an unknown driver', ['bind', VF.bdf, '--driver', 'igb_uio'], 2, /^vfmed: error: --driver must be uio_pci_generic or vfio-pci, got 'igb_uio'$/],
    ['devices and --vfs', ['bind', VF.bdf, '--vfs', '2'], 2, /^vfmed: error: give either PCI devices or --vfs N/],
    ['nothing to bind', ['bind'], 2, /^vfmed: error: nothing to bind/],
    ['--force on a PCI unbind', ['unbind', VF.bdf, '--force'], 2, /^vfmed: error: --force applies to the emulated VFs/],
  ])('%s: one-line error', async (_w, args, code, msg) => {
    const s = tree({ devices: [VF] });
    const r = await vfmedAsync([...args, '--sysfs-root', s.root]);
    oneLineError(r, code, msg);
    expect(s.driverOf(VF.bdf)).toBe('igbvf');
  });

  it('a sysfs root that is not one', async () => {
    const r = await vfmedAsync(['bind', VF.bdf, '--sysfs-root', '/nonexistent']);
    oneLineError(r, 1, /VFMED_ERR_PCI_SYSFS: \/nonexistent\/bus\/pci does not exist/);
  });

  it.skipIf(process.getuid?.() !== 0)('without permission to write sysfs: says to run as root', async () => {
    const s = tree({ devices: [VF] });
    chmodSync(s.root.replace(/\/sys$/, ''), 0o755);
    const r = await vfmedAsync(['bind', VF.bdf, '--sysfs-root', s.root], { uid: 65534, gid: 65534 });
    oneLineError(r, 1, /^vfmed bind: VFMED_ERR_PCI_PERM: unbinding 0000:03:10\.0 from igbvf: permission denied writing .*\/driver\/unbind \(run as root\)$/);
    expect(s.driverOf(VF.bdf)).toBe('igbvf');
  });
});
