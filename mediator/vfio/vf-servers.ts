/**
 * Serving every bound VF of a NIC: one IgbVfDevice and one VfioUserServer (own socket)
 * per VF. A VF whose socket cannot be created does not stop the others: it is reported
 * in `failed` and the caller decides.
 */
import { join } from 'node:path';
import type { NativeNic } from '../native/addon.js';
import type { VfioDevice } from './device.js';
import { IgbVfDevice } from './igbvf-device.js';
import { VfioUserServer, type VfioUserServerOptions } from './server.js';

export interface VfServersOptions {
  nic: NativeNic;
  /** VFs to serve; default all of nic.maxVfs */
  vfs?: readonly number[];
  /** directory of the sockets; the path of VF n is <dir>/vf<n>.sock unless pathFor is given */
  dir: string;
  pathFor?: (vf: number) => string;
  /** FLR of a VF (e.g. `(vf) => pf.vfFlr(vf)`); see IgbVfDeviceOptions.flr */
  flr?: (vf: number) => void;
  /** lets a mediation layer wrap each device (the mediate-ops seam) */
  wrapDevice?: (dev: IgbVfDevice) => VfioDevice;
  logger?: VfioUserServerOptions['logger'];
  transport?: VfioUserServerOptions['transport'];
}

export interface VfServers {
  servers: Map<number, VfioUserServer>;
  failed: Map<number, Error>;
  close(): Promise<void>;
}

export function startVfServers(opts: VfServersOptions): VfServers {
  const vfs = opts.vfs ?? Array.from({ length: opts.nic.maxVfs }, (_, i) => i);
  const servers = new Map<number, VfioUserServer>();
  const failed = new Map<number, Error>();
  for (const vf of vfs) {
    try {
      const flr = opts.flr;
      const dev = new IgbVfDevice(opts.nic, vf, flr ? { flr: () => flr(vf) } : {});
      const server = new VfioUserServer({
        path: opts.pathFor ? opts.pathFor(vf) : join(opts.dir, `vf${vf}.sock`),
        device: opts.wrapDevice ? opts.wrapDevice(dev) : dev,
        logger: opts.logger,
        transport: opts.transport,
      });
      server.listen();
      servers.set(vf, server);
    } catch (e) {
      failed.set(vf, e instanceof Error ? e : new Error(String(e)));
    }
  }
  return {
    servers,
    failed,
    async close() {
      await Promise.all([...servers.values()].map((s) => s.close()));
    },
  };
}
