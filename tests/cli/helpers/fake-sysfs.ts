// A prepared /sys tree for `vfmed bind --sysfs-root`, plus a fake "kernel" that reacts to
// the writes the way the PCI core does (driven by inotify on the attribute files, so the
// CLI under test runs as a real separate process):
//
//   drivers/<d>/unbind   <- bdf     the device's driver link goes (and its uio node)
//   drivers_probe        <- bdf     bind to driver_override if set, else to the device's
//                                   own driver; vfio-pci refuses a device without IOMMU
//                                   group unless no-IOMMU mode is on (then it makes one)
//   drivers/<d>/new_id   <- "v d"   bind every driverless device with that id to d
//   drivers/<d>/bind     <- bdf     bind to d
//
// Every write is recorded, so a test can check the exact sequence.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, unlinkSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

export interface FakeDevice {
  bdf: string;
  vendor: string;
  device: string;
  /** the driver it is bound to at the start, and its "own" driver for reprobes */
  driver: string | null;
  iommuGroup?: number;
}

export interface FakeSysfsOptions {
  devices: FakeDevice[];
  drivers?: string[];
  /** undefined: the vfio module has no enable_unsafe_noiommu_mode (no CONFIG_VFIO_NOIOMMU) */
  noiommu?: 'N' | 'Y';
  /** devices whose probe fails for every driver but their own (a broken device, -ENODEV) */
  refuse?: string[];
}

export class FakeSysfs {
  readonly root: string;
  readonly writes: Array<{ file: string; value: string }> = [];
  readonly #watchers: FSWatcher[] = [];
  readonly #own = new Map<string, string | null>();
  readonly #refuse: Set<string>;
  #nextGroup = 100;

  constructor(opts: FakeSysfsOptions) {
    this.root = join(mkdtempSync(join(tmpdir(), 'vfmed-sysfs-')), 'sys');
    this.#refuse = new Set(opts.refuse ?? []);
    const drivers = opts.drivers ?? ['igbvf', 'uio_pci_generic', 'vfio-pci'];
    mkdirSync(join(this.root, 'bus', 'pci', 'devices'), { recursive: true });
    mkdirSync(join(this.root, 'kernel', 'iommu_groups'), { recursive: true });
    this.#file(join(this.root, 'bus', 'pci', 'drivers_probe'), (v) => this.#probe(v.trim()));
    for (const d of drivers) {
      const dir = join(this.root, 'bus', 'pci', 'drivers', d);
      mkdirSync(dir, { recursive: true });
      this.#file(join(dir, 'unbind'), (v) => this.#unbind(v.trim()));
      this.#file(join(dir, 'bind'), (v) => this.#bind(v.trim(), d));
      this.#file(join(dir, 'new_id'), (v) => this.#newId(v.trim(), d));
    }
    if (opts.noiommu) {
      const p = join(this.root, 'module', 'vfio', 'parameters');
      mkdirSync(p, { recursive: true });
      this.#file(join(p, 'enable_unsafe_noiommu_mode'), () => {}, opts.noiommu);
    }
    for (const dev of opts.devices) {
      const dir = this.dev(dev.bdf);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'vendor'), `0x${dev.vendor}\n`);
      writeFileSync(join(dir, 'device'), `0x${dev.device}\n`);
      this.#file(join(dir, 'driver_override'), () => {}, '(null)\n');
      if (dev.iommuGroup !== undefined) this.#joinGroup(dev.bdf, dev.iommuGroup);
      this.#own.set(dev.bdf, dev.driver);
      if (dev.driver) this.#link(dev.bdf, dev.driver);
    }
  }

  dev(bdf: string, ...p: string[]): string {
    return join(this.root, 'bus', 'pci', 'devices', bdf, ...p);
  }

  driverOf(bdf: string): string | null {
    try {
      return basename(readlinkSync(this.dev(bdf, 'driver')));
    } catch {
      return null;
    }
  }

  read(path: string): string {
    return readFileSync(join(this.root, path), 'utf8');
  }

  close(): void {
    for (const w of this.#watchers) w.close();
    rmSync(join(this.root, '..'), { recursive: true, force: true });
  }

  #file(path: string, on: (v: string) => void, initial = ''): void {
    writeFileSync(path, initial);
    const plain = path.endsWith('driver_override') || path.endsWith('enable_unsafe_noiommu_mode');
    let last = initial;
    const w = watch(path, () => {
      const v = readFileSync(path, 'utf8');
      if (v === '' || v === initial) return;
      // One write can raise two inotify events (truncate, then data). A write-only attribute
      // is reset below, so its repeat reads back `initial`; a plain one keeps its value, so it
      // is recorded only when the value changed.
      if (plain && v === last) return;
      last = v;
      this.writes.push({ file: path.slice(this.root.length), value: v });
      if (plain) return;
      writeFileSync(path, initial); // write-only attributes read back empty
      on(v);
    });
    this.#watchers.push(w);
  }

  #joinGroup(bdf: string, g: number): void {
    const gdir = join(this.root, 'kernel', 'iommu_groups', String(g), 'devices');
    mkdirSync(gdir, { recursive: true });
    symlinkSync(`../../../../bus/pci/devices/${bdf}`, join(gdir, bdf));
    symlinkSync(`../../../../kernel/iommu_groups/${g}`, this.dev(bdf, 'iommu_group'));
  }

  #link(bdf: string, drv: string): void {
    symlinkSync(`../../../../bus/pci/drivers/${drv}`, this.dev(bdf, 'driver'));
    if (drv === 'uio_pci_generic') mkdirSync(this.dev(bdf, 'uio', 'uio0'), { recursive: true });
  }

  #unbind(bdf: string): void {
    if (!existsSync(this.dev(bdf, 'driver'))) return;
    unlinkSync(this.dev(bdf, 'driver'));
    rmSync(this.dev(bdf, 'uio'), { recursive: true, force: true });
  }

  #bind(bdf: string, drv: string): void {
    if (!existsSync(this.dev(bdf)) || this.driverOf(bdf) !== null) return;
    if (this.#refuse.has(bdf) && drv !== this.#own.get(bdf)) return;
    if (drv === 'vfio-pci' && !existsSync(this.dev(bdf, 'iommu_group'))) {
      const p = join(this.root, 'module', 'vfio', 'parameters', 'enable_unsafe_noiommu_mode');
      if (!existsSync(p) || readFileSync(p, 'utf8').trim() !== 'Y') return; // -EINVAL in the kernel
      this.#joinGroup(bdf, this.#nextGroup++);
    }
    this.#link(bdf, drv);
  }

  #probe(bdf: string): void {
    if (!existsSync(this.dev(bdf)) || this.driverOf(bdf) !== null) return;
    const ovr = readFileSync(this.dev(bdf, 'driver_override'), 'utf8').trim();
    const target = ovr && ovr !== '(null)' ? ovr : this.#own.get(bdf) ?? null;
    if (target && existsSync(join(this.root, 'bus', 'pci', 'drivers', target))) this.#bind(bdf, target);
  }

  #newId(id: string, drv: string): void {
    const [v, d] = id.split(/\s+/);
    for (const [bdf] of this.#own) {
      const dv = readFileSync(this.dev(bdf, 'vendor'), 'utf8').trim().replace(/^0x/, '');
      const dd = readFileSync(this.dev(bdf, 'device'), 'utf8').trim().replace(/^0x/, '');
      if (dv === v && dd === d && this.driverOf(bdf) === null) this.#bind(bdf, drv);
    }
  }
}
