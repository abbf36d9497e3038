/**
 * `vfmed bind` / `vfmed unbind`, for both kinds of device:
 *
 *   emulated:  vfmed bind --vfs N      asks the running daemon (control socket) to enable
 *              vfmed unbind [--force]  N VFs through its PF driver and serve each on a
 *                                      vfio-user socket, or to undo it
 *   real PCI:  vfmed bind BDF... --driver uio_pci_generic|vfio-pci [--unsafe-noiommu]
 *              vfmed unbind BDF... [--no-reprobe]
 *                                      the sysfs sequence (mediator/host/pci-bind.ts),
 *                                      --sysfs-root to work on a prepared tree
 */
import type { Command } from 'commander';
import { callDaemon } from '../daemon/control-client.js';
import type { BindReply } from '../daemon/daemon.js';
import { bindPciDevice, PCI_DRIVERS, unbindPciDevice, vfioNoiommuStatus, type BindResult, type PciDriver, type UnbindResult } from '../host/pci-bind.js';
import { addDaemonAddressOptions, controlPath, type DaemonAddressFlags } from './daemon-options.js';
import { CommandFailed, oneLine } from './failure.js';
import { EXIT_USAGE, intOption } from './options.js';

interface BindFlags extends DaemonAddressFlags {
  vfs?: number;
  driver?: string;
  method?: string;
  unsafeNoiommu?: boolean;
  sysfsRoot?: string;
  json?: boolean;
  checkNoiommu?: boolean;
}

interface UnbindFlags extends DaemonAddressFlags {
  force?: boolean;
  reprobe: boolean;
  sysfsRoot?: string;
  json?: boolean;
}

function usage(msg: string): CommandFailed {
  return new CommandFailed(`vfmed: error: ${msg}`, EXIT_USAGE);
}

function print(json: boolean | undefined, obj: unknown, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(obj, null, 2)}\n` : text);
}

export function addBindCommands(program: Command): void {
  addDaemonAddressOptions(program
    .command('bind')
    .description('emulated: enable N VFs in the daemon and serve them (--vfs N); real PCI: bind devices to a userspace driver')
    .argument('[devices...]', 'PCI addresses (DDDD:BB:DD.F) of real devices')
    .option('--vfs <n>', 'emulated: number of VFs to enable and serve, 1..8', intOption(1, 8))
    .option('--driver <name>', `real PCI: ${PCI_DRIVERS.join(' or ')} (default uio_pci_generic)`)
    .option('--method <how>', 'real PCI: override (driver_override, default) or new-id')
    .option('--unsafe-noiommu', 'real PCI, vfio-pci: enable VFIO no-IOMMU mode for a device without IOMMU group')
    .option('--check-noiommu', 'only report whether this kernel supports VFIO no-IOMMU mode')
    .option('--sysfs-root <dir>', 'real PCI: use this directory as /sys (a prepared tree for testing)')
    .option('--json', 'print the result as JSON'))
    .action(async (devices: string[], flags: BindFlags) => {
      if (flags.checkNoiommu) {
        if (devices.length || flags.vfs !== undefined) throw usage('--check-noiommu takes no devices and no --vfs');
        let st;
        try {
          st = vfioNoiommuStatus({ sysfsRoot: flags.sysfsRoot });
        } catch (e) {
          throw new CommandFailed(`vfmed bind: ${oneLine(e)}`);
        }
        print(flags.json, st, `${st.detail}\n`);
        if (!st.available) process.exitCode = 1;
        return;
      }
      if (devices.length && flags.vfs !== undefined) throw usage('give either PCI devices or --vfs N (emulated VFs), not both');
      if (!devices.length && flags.vfs === undefined) throw usage("nothing to bind: give PCI devices, or --vfs N for the daemon's emulated VFs");
      if (flags.vfs !== undefined) {
        if (flags.driver || flags.method || flags.unsafeNoiommu || flags.sysfsRoot) {
          throw usage('--driver/--method/--unsafe-noiommu/--sysfs-root apply to real PCI devices, not to --vfs');
        }
        let r: BindReply;
        try {
          r = await callDaemon<BindReply>(controlPath(flags), 'bind', { vfs: flags.vfs });
        } catch (e) {
          throw new CommandFailed(`vfmed bind: ${oneLine(e)}`);
        }
        print(flags.json, r, r.vfs.map((v) => `vf${v.vf} ${v.mac} ${v.socket}\n`).join(''));
        return;
      }
      const driver = (flags.driver ?? 'uio_pci_generic') as PciDriver;
      if (!(PCI_DRIVERS as readonly string[]).includes(driver)) throw usage(`--driver must be ${PCI_DRIVERS.join(' or ')}, got '${driver}'`);
      if (flags.method !== undefined && flags.method !== 'override' && flags.method !== 'new-id') {
        throw usage(`--method must be override or new-id, got '${flags.method}'`);
      }
      const results: BindResult[] = [];
      for (const dev of devices) {
        try {
          results.push(bindPciDevice(dev, {
            driver, sysfsRoot: flags.sysfsRoot, unsafeNoiommu: flags.unsafeNoiommu,
            method: flags.method as 'override' | 'new-id' | undefined,
          }));
        } catch (e) {
          if (results.length) print(flags.json, results, results.map(bindLine).join(''));
          throw new CommandFailed(`vfmed bind: ${oneLine(e)}`);
        }
      }
      print(flags.json, results, results.map(bindLine).join(''));
    });

  addDaemonAddressOptions(program
    .command('unbind')
    .description("emulated: stop serving the daemon's VFs and disable them; real PCI: give devices back to their kernel driver")
    .argument('[devices...]', 'PCI addresses of real devices')
    .option('--force', 'emulated: unbind even while clients are attached (they are disconnected)')
    .option('--no-reprobe', 'real PCI: leave the device without a driver')
    .option('--sysfs-root <dir>', 'real PCI: use this directory as /sys')
    .option('--json', 'print the result as JSON'))
    .action(async (devices: string[], flags: UnbindFlags) => {
      if (!devices.length) {
        if (flags.sysfsRoot || flags.reprobe === false) throw usage('--sysfs-root/--no-reprobe apply to real PCI devices');
        let r: { unbound: number };
        try {
          r = await callDaemon<{ unbound: number }>(controlPath(flags), 'unbind', { force: flags.force === true });
        } catch (e) {
          throw new CommandFailed(`vfmed unbind: ${oneLine(e)}`);
        }
        print(flags.json, r, `${r.unbound} VFs unbound\n`);
        return;
      }
      if (flags.force) throw usage('--force applies to the emulated VFs (no devices)');
      const results: UnbindResult[] = [];
      for (const dev of devices) {
        try {
          results.push(unbindPciDevice(dev, { sysfsRoot: flags.sysfsRoot, reprobe: flags.reprobe }));
        } catch (e) {
          if (results.length) print(flags.json, results, results.map(unbindLine).join(''));
          throw new CommandFailed(`vfmed unbind: ${oneLine(e)}`);
        }
      }
      print(flags.json, results, results.map(unbindLine).join(''));
    });
}

function bindLine(r: BindResult): string {
  const how = r.alreadyBound ? 'already bound to' : `bound to`;
  return `${r.bdf} ${how} ${r.driver}${r.previousDriver && !r.alreadyBound ? ` (was ${r.previousDriver})` : ''}: ${r.devnode}`
    + `${r.noiommu ? ' (no-IOMMU mode)' : ''}\n`;
}

function unbindLine(r: UnbindResult): string {
  return `${r.bdf} unbound${r.previousDriver ? ` from ${r.previousDriver}` : ''}`
    + `${r.driver ? `, now bound to ${r.driver}` : ', no driver'}\n`;
}
