/**
 * Binding a real PCI device to a userspace-I/O driver through sysfs: the sequence a user
 * types by hand, in one module (`vfmed bind`/`unbind` for real devices; the kernel test
 * runs that very command in a real kernel under QEMU, tests/kernel).
 *
 *   bind(bdf, driver):
 *     1. the device exists             /sys/bus/pci/devices/<bdf>
 *     2. the driver is there           /sys/bus/pci/drivers/<driver> (modprobe on a real /sys)
 *     3. vfio-pci without IOMMU group  needs CONFIG_VFIO_NOIOMMU:
 *                                      /sys/module/vfio/parameters/enable_unsafe_noiommu_mode
 *                                      absent → refused with the reason; present → only with
 *                                      --unsafe-noiommu (it writes Y: no DMA isolation)
 *     4. unbind the current driver     echo <bdf> > .../devices/<bdf>/driver/unbind
 *     5a. driver_override (default)    echo <driver> > .../devices/<bdf>/driver_override
 *                                      echo <bdf> > /sys/bus/pci/drivers_probe
 *     5b. new_id (--method new-id)     echo "<vendor> <device>" > .../drivers/<driver>/new_id
 *                                      (binds EVERY unbound device with that id), then
 *                                      echo <bdf> > .../drivers/<driver>/bind if needed
 *     6. check .../devices/<bdf>/driver → <driver>; the device node (/dev/uioN, or
 *        /dev/vfio/<group> / noiommu-<group>) and, for VFIO, that every device of the IOMMU
 *        group is bound to vfio-pci or to nothing (else the group is not viable)
 *   unbind(bdf): unbind, clear driver_override, and (unless told not to) drivers_probe so
 *     the device's own kernel driver takes it back.
 *
 * Why driver_override by default: it names one device; new_id claims every device with
 * the id (all VFs of a PF, every ivshmem BAR in the kernel test).
 *
 * `sysfsRoot` replaces /sys (tests use a prepared tree and a fake "kernel" that reacts to
 * the writes); with it, modules are never loaded and device nodes are not checked. The
 * kernel applies a write synchronously, udev may not: results are polled for, bounded.
 * Every failure is a PciBindError with one line saying what to do.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants as fsc, existsSync, openSync, readdirSync, readFileSync, readlinkSync, statSync, writeSync } from 'node:fs';
import { release } from 'node:os';
import { basename, join } from 'node:path';
import { VfmedError } from '../errors.js';

export const PCI_DRIVERS = ['uio_pci_generic', 'vfio-pci'] as const;
export type PciDriver = (typeof PCI_DRIVERS)[number];

export interface SysfsOptions {
  /** the directory standing for /sys (default '/sys') */
  sysfsRoot?: string;
  /** how long to wait for the kernel/udev to settle after a write (default 2000 ms) */
  settleMs?: number;
}

export interface BindOptions extends SysfsOptions {
  driver: PciDriver;
  /** allow enabling VFIO's no-IOMMU mode when the device has no IOMMU group */
  unsafeNoiommu?: boolean;
  method?: 'override' | 'new-id';
}

export interface BindResult {
  bdf: string;
  driver: PciDriver;
  previousDriver: string | null;
  alreadyBound: boolean;
  /** /dev/uioN, /dev/vfio/<group> or /dev/vfio/noiommu-<group> */
  devnode: string;
  /** false: not checked (a prepared sysfs tree) */
  devnodeChecked: boolean;
  iommuGroup: string | null;
  noiommu: boolean;
}

export interface UnbindResult {
  bdf: string;
  previousDriver: string | null;
  /** the driver the device has after the reprobe (null: none) */
  driver: string | null;
}

export interface NoiommuStatus {
  available: boolean;
  enabled: boolean;
  detail: string;
}

export class PciBindError extends VfmedError {
  constructor(code: string, message: string) {
    super(code, message);
    this.name = 'PciBindError';
  }
}

const BDF_RE = /^(?:([0-9a-f]{4}):)?([0-9a-f]{2}):([0-1][0-9a-f])\.([0-7])$/;

/** "03:00.1" → "0000:03:00.1"; lower case; throws for anything else. */
export function normalizeBdf(s: string): string {
  const m = BDF_RE.exec(s.trim().toLowerCase());
  if (!m) throw new PciBindError('VFMED_ERR_PCI_ADDRESS', `'${s}' is not a PCI address (DDDD:BB:DD.F, e.g. 0000:03:00.1)`);
  return `${m[1] ?? '0000'}:${m[2]}:${m[3]}.${m[4]}`;
}

class Sysfs {
  readonly root: string;
  readonly real: boolean;
  readonly settleMs: number;
  constructor(opts: SysfsOptions) {
    this.root = opts.sysfsRoot ?? '/sys';
    this.real = this.root === '/sys';
    this.settleMs = opts.settleMs ?? 2000;
    if (!existsSync(join(this.root, 'bus', 'pci'))) {
      throw new PciBindError('VFMED_ERR_PCI_SYSFS', `${join(this.root, 'bus/pci')} does not exist: no PCI sysfs here`);
    }
  }
  dev(bdf: string, ...p: string[]): string {
    return join(this.root, 'bus', 'pci', 'devices', bdf, ...p);
  }
  drv(name: string, ...p: string[]): string {
    return join(this.root, 'bus', 'pci', 'drivers', name, ...p);
  }
  noiommuParam(): string {
    return join(this.root, 'module', 'vfio', 'parameters', 'enable_unsafe_noiommu_mode');
  }
  linkName(path: string): string | null {
    try {
      return basename(readlinkSync(path));
    } catch {
      return null;
    }
  }
  driverOf(bdf: string): string | null {
    return this.linkName(this.dev(bdf, 'driver'));
  }
  read(path: string): string {
    return readFileSync(path, 'utf8').trim();
  }
  /** One write(2) of the whole value, as sysfs wants; no O_CREAT (a missing attribute is an
   * error, not a new file). */
  write(path: string, value: string, what: string): void {
    let fd: number;
    try {
      fd = openSync(path, fsc.O_WRONLY | fsc.O_TRUNC);
    } catch (e) {
      throw this.ioError(e, path, what);
    }
    try {
      writeSync(fd, value);
    } catch (e) {
      throw this.ioError(e, path, what);
    } finally {
      closeSync(fd);
    }
  }
  ioError(e: unknown, path: string, what: string): PciBindError {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      return new PciBindError('VFMED_ERR_PCI_PERM', `${what}: permission denied writing ${path} (run as root)`);
    }
    if (code === 'ENOENT') return new PciBindError('VFMED_ERR_PCI_SYSFS', `${what}: ${path} does not exist`);
    return new PciBindError('VFMED_ERR_PCI_KERNEL', `${what}: the kernel refused the write to ${path} (${code}; see dmesg)`);
  }
  /** Polls cond until it holds or settleMs passes. */
  settle(cond: () => boolean): boolean {
    const deadline = Date.now() + this.settleMs;
    const cell = new Int32Array(new SharedArrayBuffer(4));
    for (;;) {
      if (cond()) return true;
      if (Date.now() >= deadline) return false;
      Atomics.wait(cell, 0, 0, 10);
    }
  }
}

function modprobe(module: string): string | null {
  try {
    execFileSync('modprobe', [module], { stdio: ['ignore', 'ignore', 'pipe'] });
    return null;
  } catch (e) {
    const err = e as { stderr?: Buffer; code?: string; message: string };
    if (err.code === 'ENOENT') return 'modprobe not found';
    return (err.stderr?.toString().trim().split('\n')[0]) || err.message.split('\n')[0] || 'failed';
  }
}

function ensureDriver(fs: Sysfs, driver: PciDriver): void {
  if (existsSync(fs.drv(driver))) return;
  let why = 'not loaded';
  if (fs.real) {
    const mods = driver === 'vfio-pci' ? ['vfio-pci', 'vfio_iommu_type1'] : [driver];
    for (const m of mods) {
      const r = modprobe(m);
      if (r && m === mods[0]) why = `modprobe ${m}: ${r}`;
    }
    if (fs.settle(() => existsSync(fs.drv(driver)))) return;
  }
  throw new PciBindError('VFMED_ERR_PCI_DRIVER', `driver ${driver} is not available (${why})`);
}

/** Whether VFIO can run without an IOMMU on this kernel, and whether that is on. */
export function vfioNoiommuStatus(opts: SysfsOptions = {}): NoiommuStatus {
  const fs = new Sysfs(opts);
  if (fs.real && !existsSync(join(fs.root, 'module', 'vfio'))) modprobe('vfio');
  const param = fs.noiommuParam();
  if (!existsSync(param)) {
    const kern = fs.real ? `this kernel (${release()})` : 'this kernel';
    return {
      available: false, enabled: false,
      detail: `${kern} is built without CONFIG_VFIO_NOIOMMU (no ${param})`,
    };
  }
  const v = fs.read(param);
  const enabled = v === 'Y' || v === '1';
  return { available: true, enabled, detail: `VFIO no-IOMMU mode available (enable_unsafe_noiommu_mode=${v})` };
}

function checkVfioGroup(fs: Sysfs, bdf: string, group: string): void {
  const dir = fs.dev(bdf, 'iommu_group', 'devices');
  let members: string[] = [];
  try {
    members = readdirSync(dir);
  } catch {
    return; // a tree without the group's device list: nothing to check
  }
  for (const m of members) {
    const d = fs.driverOf(m);
    if (d !== null && d !== 'vfio-pci' && d !== 'pcieport') {
      throw new PciBindError('VFMED_ERR_PCI_GROUP',
        `IOMMU group ${group} also holds ${m}, bound to ${d}: the group is not viable (bind every device of the group to vfio-pci)`);
    }
  }
}

function devnodeOf(fs: Sysfs, bdf: string, driver: PciDriver, noiommu: boolean): { devnode: string; group: string | null } {
  if (driver === 'uio_pci_generic') {
    let uio: string | undefined;
    fs.settle(() => {
      try {
        uio = readdirSync(fs.dev(bdf, 'uio')).find((n) => /^uio[0-9]+$/.test(n));
      } catch {
        uio = undefined;
      }
      return uio !== undefined;
    });
    if (!uio) throw new PciBindError('VFMED_ERR_PCI_DEVNODE', `${bdf} is bound to uio_pci_generic but has no uio device (see dmesg)`);
    return { devnode: `/dev/${uio}`, group: null };
  }
  const group = fs.linkName(fs.dev(bdf, 'iommu_group'));
  if (!group) throw new PciBindError('VFMED_ERR_PCI_DEVNODE', `${bdf} is bound to vfio-pci but has no IOMMU group`);
  return { devnode: noiommu ? `/dev/vfio/noiommu-${group}` : `/dev/vfio/${group}`, group };
}

export function bindPciDevice(address: string, opts: BindOptions): BindResult {
  const bdf = normalizeBdf(address);
  if (!(PCI_DRIVERS as readonly string[]).includes(opts.driver)) {
    throw new PciBindError('VFMED_ERR_PCI_DRIVER', `driver must be one of ${PCI_DRIVERS.join(', ')}, got '${opts.driver}'`);
  }
  const fs = new Sysfs(opts);
  const { driver } = opts;
  if (!existsSync(fs.dev(bdf))) throw new PciBindError('VFMED_ERR_PCI_NODEV', `no PCI device ${bdf} (${fs.dev(bdf)} missing)`);
  ensureDriver(fs, driver);

  let noiommu = false;
  if (driver === 'vfio-pci' && !existsSync(fs.dev(bdf, 'iommu_group'))) {
    const st = vfioNoiommuStatus(opts);
    if (!st.available) {
      throw new PciBindError('VFMED_ERR_NOIOMMU',
        `${bdf} has no IOMMU group and VFIO cannot run without an IOMMU: ${st.detail}. Enable an IOMMU `
        + '(intel_iommu=on / amd_iommu=on; in QEMU -machine q35 -device intel-iommu) or bind to uio_pci_generic');
    }
    if (!st.enabled) {
      if (!opts.unsafeNoiommu) {
        throw new PciBindError('VFMED_ERR_NOIOMMU',
          `${bdf} has no IOMMU group; VFIO no-IOMMU mode exists but is off: pass --unsafe-noiommu to enable it `
          + '(no DMA isolation, taints the kernel)');
      }
      fs.write(fs.noiommuParam(), 'Y', 'enabling VFIO no-IOMMU mode');
    }
    noiommu = true;
  }

  const previous = fs.driverOf(bdf);
  const alreadyBound = previous === driver;
  if (!alreadyBound) {
    if (previous !== null) {
      fs.write(fs.dev(bdf, 'driver', 'unbind'), bdf, `unbinding ${bdf} from ${previous}`);
      if (!fs.settle(() => fs.driverOf(bdf) === null)) {
        throw new PciBindError('VFMED_ERR_PCI_KERNEL', `${bdf} is still bound to ${previous} after unbind (see dmesg)`);
      }
    }
    if ((opts.method ?? 'override') === 'override') {
      fs.write(fs.dev(bdf, 'driver_override'), driver, `setting driver_override of ${bdf}`);
      fs.write(join(fs.root, 'bus', 'pci', 'drivers_probe'), bdf, `probing ${bdf}`);
    } else {
      const id = `${fs.read(fs.dev(bdf, 'vendor')).replace(/^0x/, '')} ${fs.read(fs.dev(bdf, 'device')).replace(/^0x/, '')}`;
      try {
        fs.write(fs.drv(driver, 'new_id'), id, `adding ${id} to ${driver}`);
      } catch (e) {
        // EEXIST: the id is already known to the driver; binding by address below still works
        if (!(e instanceof PciBindError) || !/EEXIST/.test(e.message)) throw e;
      }
      if (!fs.settle(() => fs.driverOf(bdf) !== null)) {
        fs.write(fs.drv(driver, 'bind'), bdf, `binding ${bdf} to ${driver}`);
      }
    }
    if (!fs.settle(() => fs.driverOf(bdf) === driver)) {
      // Leave the device as we found it as far as we can: no override, and a probe so its
      // own driver takes it back. The bind error is the one to report.
      try {
        if (opts.method !== 'new-id') fs.write(fs.dev(bdf, 'driver_override'), '\n', `clearing driver_override of ${bdf}`);
        if (fs.driverOf(bdf) === null) fs.write(join(fs.root, 'bus', 'pci', 'drivers_probe'), bdf, `reprobing ${bdf}`);
        if (previous !== null) fs.settle(() => fs.driverOf(bdf) !== null);
      } catch { /* see above */ }
      const now = fs.driverOf(bdf);
      throw new PciBindError('VFMED_ERR_PCI_KERNEL',
        `${driver} did not bind ${bdf} (see dmesg for the kernel's reason); the device is now `
        + `${now ? `bound to ${now}` : 'without a driver'}`);
    }
  }
  const { devnode, group } = devnodeOf(fs, bdf, driver, noiommu);
  if (driver === 'vfio-pci' && group) checkVfioGroup(fs, bdf, group);
  if (fs.real && !fs.settle(() => existsSync(devnode) && statSync(devnode).isCharacterDevice())) {
    throw new PciBindError('VFMED_ERR_PCI_DEVNODE', `${bdf} is bound to ${driver} but ${devnode} did not appear`);
  }
  return { bdf, driver, previousDriver: previous, alreadyBound, devnode, devnodeChecked: fs.real, iommuGroup: group, noiommu };
}

export function unbindPciDevice(address: string, opts: SysfsOptions & { reprobe?: boolean } = {}): UnbindResult {
  const bdf = normalizeBdf(address);
  const fs = new Sysfs(opts);
  if (!existsSync(fs.dev(bdf))) throw new PciBindError('VFMED_ERR_PCI_NODEV', `no PCI device ${bdf} (${fs.dev(bdf)} missing)`);
  const previous = fs.driverOf(bdf);
  if (previous !== null) {
    fs.write(fs.dev(bdf, 'driver', 'unbind'), bdf, `unbinding ${bdf} from ${previous}`);
    if (!fs.settle(() => fs.driverOf(bdf) === null)) {
      throw new PciBindError('VFMED_ERR_PCI_KERNEL', `${bdf} is still bound to ${previous} after unbind (see dmesg)`);
    }
  }
  // An empty write clears the override, so a probe can pick the device's own driver.
  if (existsSync(fs.dev(bdf, 'driver_override'))) {
    fs.write(fs.dev(bdf, 'driver_override'), '\n', `clearing driver_override of ${bdf}`);
  }
  let driver: string | null = null;
  if (opts.reprobe ?? true) {
    try {
      fs.write(join(fs.root, 'bus', 'pci', 'drivers_probe'), bdf, `reprobing ${bdf}`);
    } catch (e) {
      // No driver wants it: the kernel answers the probe with an error. Not a failure of
      // unbind, which is done.
      if (!(e instanceof PciBindError) || e.code !== 'VFMED_ERR_PCI_KERNEL') throw e;
    }
    fs.settle(() => fs.driverOf(bdf) !== null);
    driver = fs.driverOf(bdf);
  }
  return { bdf, previousDriver: previous, driver };
}
