/**
 * The emulated VFs the daemon serves: "binding" N VFs is what a host does with SR-IOV —
 * the PF driver enables N VFs (as `echo N > sriov_numvfs`) and assigns each its MAC
 * administratively (as `ip link set <pf> vf n mac ...`) — followed by what vfio-pci does
 * for a VF: a device a VMM can open, here a vfio-user socket per VF.
 *
 *   bind(N):   pf.sriovEnable(N) → pf.setVfMac(n) → IgbVfDevice(n) ─ AccessCounter ─
 *              [wrapDevice: mediation seam] → VfioUserServer <runDir>/vf<n>.sock
 *   unbind():  refuse while a client is attached (unless forced: clients are cut off) →
 *              close every server (socket removed, device released) → pf.sriovEnable(0)
 *
 * As with sriov_numvfs, changing a non-zero VF count needs an unbind first (EBUSY).
 */
import { join } from 'node:path';
import { constants } from 'node:os';
import type { Logger } from 'pino';
import { VfmedError } from '../errors.js';
import type { NativeNic } from '../native/addon.js';
import type { PfDriver } from '../pf/pf-driver.js';
import type { VfioDevice } from '../vfio/device.js';
import { IgbVfDevice } from '../vfio/igbvf-device.js';
import { VfioUserServer } from '../vfio/server.js';
import type { PeerCred } from '../vfio/transport-native.js';
import { AccessCounter } from './access-counter.js';
import { parseMac } from './config.js';

const { EBUSY, EINVAL } = constants.errno;

export interface BoundVf {
  vf: number;
  mac: string;
  socket: string;
  server: VfioUserServer;
  device: IgbVfDevice;
  counter: AccessCounter;
  client: PeerCred | null;
  attachedAt: string | null;
  attaches: number;
  refused: number;
}

export interface VfSetOptions {
  nic: NativeNic;
  pf: PfDriver;
  runDir: string;
  macOf: (vf: number) => string;
  log: Logger;
  /** the mediate-ops seam: wraps each VF's device before it is served */
  wrapDevice?: (dev: VfioDevice, vf: number, model: IgbVfDevice) => VfioDevice;
  /** called after a VF is enabled, so the PF's pending events get serviced */
  afterEnable?: () => void;
}

export class VfSet {
  readonly #o: VfSetOptions;
  readonly #vfs: BoundVf[] = [];

  constructor(opts: VfSetOptions) {
    this.#o = opts;
  }

  get bound(): readonly BoundVf[] {
    return this.#vfs;
  }

  socketOf(vf: number): string {
    return join(this.#o.runDir, `vf${vf}.sock`);
  }

  bind(count: number): BoundVf[] {
    const { nic, pf, log } = this.#o;
    if (!Number.isInteger(count) || count < 1 || count > nic.maxVfs) {
      throw new VfmedError('VFMED_ERR_BIND', `VF count must be in 1..${nic.maxVfs}, got ${count}`, EINVAL);
    }
    if (this.#vfs.length === count) return this.#vfs;
    if (this.#vfs.length) {
      throw new VfmedError('VFMED_ERR_BIND',
        `${this.#vfs.length} VFs are bound; unbind them before binding ${count} (as with sriov_numvfs)`, EBUSY);
    }
    const enabled = pf.sriovEnable(count);
    if (enabled !== count) throw new VfmedError('VFMED_ERR_BIND', `the PF driver enabled ${enabled} VFs, not ${count}`);
    try {
      for (let vf = 0; vf < count; vf++) {
        const mac = this.#o.macOf(vf);
        pf.setVfMac(vf, parseMac(mac));
        const device = new IgbVfDevice(nic, vf, { flr: () => pf.vfFlr(vf) });
        const counter = new AccessCounter(device);
        const served = this.#o.wrapDevice ? this.#o.wrapDevice(counter, vf, device) : counter;
        const socket = this.socketOf(vf);
        const server = new VfioUserServer({ path: socket, device: served, logger: log.child({ vf }) });
        const entry: BoundVf = {
          vf, mac, socket, server, device, counter, client: null, attachedAt: null, attaches: 0, refused: 0,
        };
        server.on('attach', (peer: PeerCred | null) => {
          entry.client = peer;
          entry.attachedAt = new Date().toISOString();
          entry.attaches++;
        });
        server.on('detach', () => {
          entry.client = null;
          entry.attachedAt = null;
        });
        server.on('refuse', () => {
          entry.refused++;
        });
        server.listen();
        this.#vfs.push(entry);
        log.info({ vf, mac, socket }, 'VF bound: enabled by the PF driver, served on its vfio-user socket');
      }
    } catch (e) {
      void this.#teardown();
      throw e;
    }
    this.#o.afterEnable?.();
    return this.#vfs;
  }

  /** Stops serving every VF and disables SR-IOV. Returns how many VFs were unbound. */
  async unbind(force = false): Promise<number> {
    const busy = this.#vfs.filter((v) => v.server.attached !== null);
    if (busy.length && !force) {
      throw new VfmedError('VFMED_ERR_BIND',
        `VF${busy.length > 1 ? 's' : ''} ${busy.map((v) => v.vf).join(', ')} still ha${busy.length > 1 ? 've' : 's'} a client `
        + `(pid ${busy.map((v) => v.client?.pid ?? '?').join(', ')}); stop it or unbind with --force`, EBUSY);
    }
    const n = this.#vfs.length;
    await this.#teardown();
    return n;
  }

  async #teardown(): Promise<void> {
    const vfs = this.#vfs.splice(0);
    await Promise.all(vfs.map((v) => v.server.close()));
    try {
      if (this.#o.pf.numVfs() !== 0) this.#o.pf.sriovEnable(0);
    } catch (e) {
      this.#o.log.warn({ err: e }, 'disabling SR-IOV failed');
    }
    if (vfs.length) this.#o.log.info({ vfs: vfs.length }, 'VFs unbound, SR-IOV disabled');
  }
}
