/**
 * The vfmed daemon (`vfmed start`): one emulated SR-IOV NIC and everything around it.
 *
 *   ┌ Daemon ─────────────────────────────────────────────────────────────────────────┐
 *   │ NIC (native, device thread) ── PF BAR ── PfDriver (libvfpf) ◀─ PfService (eventfd)│
 *   │   │ VFs ── VfSet: IgbVfDevice → AccessCounter → [wrapDevice] → vfio-user socket  │
 *   │   └ uplink ── UplinkPort: capture (pcap) · TAP · replay (pcap)                   │
 *   │ ControlServer (<runDir>/control.sock, JSON lines): status bind unbind replay stop│
 *   └──────────────────────────────────────────────────────────────────────────────────┘
 *
 * Start order is the order a host brings a NIC up: device, PF driver (admin queue,
 * PFRSTD), PF event service, uplink backends, VFs (if configured), then the control
 * socket last, so that a client that can reach the daemon finds it complete. stop()
 * undoes it in reverse; every step of it runs even if an earlier one failed.
 *
 * How `vfmed bind` relates to a running daemon: the daemon owns the emulated PF, so
 * binding emulated VFs is a request to it (control command `bind {vfs: N}`), which
 * enables N VFs through the PF driver and serves them; `vfmed start --vfs N` does the same
 * at start. `unbind` is the reverse. (Real PCI devices are bound by the CLI itself through
 * sysfs: mediator/host/pci-bind.ts.)
 */
import { chmodSync, lstatSync, mkdirSync } from 'node:fs';
import type { Logger } from 'pino';
import { VfmedError } from '../errors.js';
import { loadAddon, type NativeAddon, type NativeNic } from '../native/addon.js';
import { PfDriver } from '../pf/pf-driver.js';
import type { VfioDevice } from '../vfio/device.js';
import { UplinkPort } from '../wire/uplink-port.js';
import type { ReplayStats } from '../wire/pcap-replay.js';
import { parseMac, vfMacOf, type DaemonConfig, type ReplayRateSetting } from './config.js';
import { ControlServer } from './control-server.js';
import { PfService } from './pf-service.js';
import { vfStatus, type DaemonStatus } from './status.js';
import { VfSet, type BoundVf } from './vf-set.js';
import { MediateRegistry, MediatedDevice } from '../vfio/mediate-ops.js';
import type { IgbVfDevice } from '../vfio/igbvf-device.js';
import { registerVfMediateDriver, type VfMediateDriver } from '../mediate/vf-mediate-driver.js';

/** PF DMA memory (admin ring, VF state buffers): sparse, so its size costs nothing. */
const PF_DMA_IOVA = 0x8000_0000n;
const PF_DMA_LEN = 32n << 20n;
const RX_READY_POLL_MS = 20;

export interface DaemonOptions {
  config: DaemonConfig;
  log: Logger;
  version?: string;
  addon?: NativeAddon;
  /** the mediate-ops seam: wraps each VF's device before it is served. Default: the VF
   * mediate driver (trap + dirty tracking + migration) with config.migration's tracker */
  wrapDevice?: (dev: VfioDevice, vf: number, model: IgbVfDevice) => VfioDevice;
  /** no control socket (an embedded daemon, e.g. the demo or a benchmark trial) */
  noControl?: boolean;
}

export interface BindReply {
  vfs: Array<{ vf: number; mac: string; socket: string }>;
}

function ensureRunDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new VfmedError('VFMED_ERR_RUNDIR', `${dir} is not a directory`);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) {
    throw new VfmedError('VFMED_ERR_RUNDIR', `${dir} belongs to uid ${st.uid}, not to this user (${uid})`);
  }
  if (st.mode & 0o077) chmodSync(dir, 0o700);
}

export class Daemon {
  readonly config: DaemonConfig;
  readonly log: Logger;
  readonly nic: NativeNic;
  readonly pf: PfDriver;
  readonly uplink: UplinkPort;
  readonly vfs: VfSet;
  /** The VF mediate driver (null when DaemonOptions.wrapDevice replaced it). */
  readonly mediate: VfMediateDriver | null;
  readonly startedAt = new Date();
  readonly stopped: Promise<void>;
  #control: ControlServer | null = null;
  readonly #addon: NativeAddon;
  readonly #service: PfService;
  readonly #dmaFd: number;
  readonly #version: string;
  #rxReadyTimer: NodeJS.Timeout | null = null;
  #stopping: Promise<void> | null = null;
  #resolveStopped!: () => void;

  private constructor(opts: DaemonOptions, parts: {
    addon: NativeAddon; nic: NativeNic; pf: PfDriver; dmaFd: number; service: PfService; uplink: UplinkPort;
  }) {
    this.config = opts.config;
    this.log = opts.log;
    this.#version = opts.version ?? 'unknown';
    this.#addon = parts.addon;
    this.nic = parts.nic;
    this.pf = parts.pf;
    this.#dmaFd = parts.dmaFd;
    this.#service = parts.service;
    this.uplink = parts.uplink;
    let wrapDevice = opts.wrapDevice;
    this.mediate = null;
    if (!wrapDevice) {
      // The served device is the access counter around the model; the driver mediates the
      // model underneath it.
      const models = new WeakMap<VfioDevice, IgbVfDevice>();
      const registry = new MediateRegistry();
      const log = this.log.child({ part: 'mediate' });
      this.mediate = registerVfMediateDriver(registry, {
        nic: this.nic, pf: this.pf, tracker: this.config.migration.dirtyTracking,
        deviceOf: (dev) => models.get(dev) ?? null,
        onError: (vf, err, what) => log.warn({ vf, err, what }, 'VF mediate driver: request failed'),
        onReleaseMac: (vf) => log.info({ vf }, 'VF migrated out: its MAC and filters are released'),
      });
      wrapDevice = (dev, _vf, model) => {
        models.set(dev, model);
        return new MediatedDevice(dev, registry);
      };
    }
    this.vfs = new VfSet({
      nic: this.nic, pf: this.pf, runDir: this.config.runDir, log: this.log,
      macOf: (vf) => vfMacOf(this.config, vf), wrapDevice, afterEnable: () => this.#service.run(),
    });
    this.stopped = new Promise((r) => {
      this.#resolveStopped = r;
    });
  }

  static async start(opts: DaemonOptions): Promise<Daemon> {
    const { config: c, log } = opts;
    const addon = opts.addon ?? loadAddon();
    const undo: Array<() => void> = [];
    const rollback = (): void => {
      while (undo.length) {
        try {
          undo.pop()!();
        } catch (e) {
          log.warn({ err: e }, 'daemon start: cleanup step failed');
        }
      }
    };
    let d: Daemon;
    try {
      ensureRunDir(c.runDir);
      const nic = new addon.Nic({
        maxVfs: c.nic.maxVfs, rxFifoBytes: c.nic.rxFifoBytes, pollMode: c.nic.pollMode, baseMac: parseMac(c.baseMac),
      });
      undo.push(() => nic.destroy());
      nic.start();
      const dmaFd = addon.memfdCreate('vfmed-pf-dma', PF_DMA_LEN);
      undo.push(() => addon.close(dmaFd));
      nic.pfDmaMap(PF_DMA_IOVA, PF_DMA_LEN, dmaFd, 0n);
      const pf = PfDriver.open({ barFd: nic.pfBarFd(), dmaFd, dmaIova: PF_DMA_IOVA, dmaLen: PF_DMA_LEN });
      undo.push(() => pf.close());
      pf.init();
      const info = pf.info();
      log.info({ modelId: info.modelId.toString(16), abi: `${info.abiMajor}.${info.abiMinor}`, maxVfs: info.maxVfs },
        'PF up: admin queue enabled, PFRSTD set');
      const service = new PfService(addon, nic, pf, log);
      undo.push(() => service.close());
      const uplink = new UplinkPort(addon, nic, { log: log.child({ part: 'uplink' }), linkBps: c.uplink.linkSpeedMbps * 1e6 });
      undo.push(() => uplink.close());
      if (c.uplink.capture) uplink.startCapture(c.uplink.capture.file, c.uplink.capture.snaplen);
      if (c.uplink.tap) uplink.attachTap(c.uplink.tap.name || undefined);
      d = new Daemon(opts, { addon, nic, pf, dmaFd, service, uplink });
      if (c.vfs > 0) d.bind(c.vfs);
      undo.push(() => void d.vfs.unbind(true));
      if (c.uplink.replay) await d.#startConfiguredReplay();
      if (!opts.noControl) d.#control = await ControlServer.listen(c.control, d.#handlers(), log.child({ part: 'control' }));
    } catch (e) {
      rollback();
      throw e;
    }
    log.info({ runDir: c.runDir, control: opts.noControl ? null : c.control, vfs: d.vfs.bound.length, pid: process.pid },
      'vfmed daemon ready');
    return d;
  }

  bind(count: number): BindReply {
    const vfs = this.vfs.bind(count);
    return { vfs: vfs.map((v) => ({ vf: v.vf, mac: v.mac, socket: v.socket })) };
  }

  async unbind(force = false): Promise<{ unbound: number }> {
    return { unbound: await this.vfs.unbind(force) };
  }

  boundVf(vf: number): BoundVf | undefined {
    return this.vfs.bound.find((b) => b.vf === vf);
  }

  /** Starts a pcap replay; with wait, resolves when it ends. */
  async replay(file: string, rate: ReplayRateSetting = 'line', loop = 1, wait = true): Promise<ReplayStats> {
    const r = await this.uplink.replay({ file, rate, loop });
    return wait ? r.done : r.stats;
  }

  status(): DaemonStatus {
    return {
      daemon: {
        pid: process.pid, version: this.#version, startedAt: this.startedAt.toISOString(),
        uptimeS: Math.round((Date.now() - this.startedAt.getTime()) / 100) / 10,
        runDir: this.config.runDir, control: this.#control ? this.config.control : '',
      },
      pf: {
        driver: 'libvfpf', maxVfs: this.nic.maxVfs, numVfs: this.pf.numVfs(),
        linkSpeedMbps: this.config.uplink.linkSpeedMbps, service: this.#service.counters,
      },
      vfs: this.vfs.bound.map((b) => vfStatus(this.nic, this.pf, b, this.mediate?.handle(b.vf)?.status() ?? null)),
      uplink: this.uplink.stats(),
    };
  }

  async #startConfiguredReplay(): Promise<void> {
    const r = this.config.uplink.replay!;
    const go = (): void => {
      this.replay(r.file, r.rate, r.loop, false).catch((e: unknown) => {
        this.log.error({ err: e, file: r.file }, 'pcap replay failed to start');
      });
    };
    if (r.start === 'now') {
      await this.replay(r.file, r.rate, r.loop, false); // a bad file fails the start
      return;
    }
    this.log.info({ file: r.file }, 'pcap replay waits until a bound VF has its RX queue enabled');
    this.#rxReadyTimer = setInterval(() => {
      const ready = this.vfs.bound.some((b) => {
        const q = this.nic.vfInfo(b.vf).queues;
        return q[0].rxEnabled || q[1].rxEnabled;
      });
      if (ready) {
        clearInterval(this.#rxReadyTimer!);
        this.#rxReadyTimer = null;
        go();
      }
    }, RX_READY_POLL_MS);
  }

  #handlers(): Record<string, (a: Record<string, unknown>) => unknown> {
    return {
      hello: () => ({ version: this.#version, pid: process.pid, startedAt: this.startedAt.toISOString() }),
      status: () => this.status(),
      bind: (a) => {
        const n = a['vfs'];
        if (typeof n !== 'number' || !Number.isInteger(n)) throw new VfmedError('VFMED_ERR_BIND', 'bind needs {vfs: integer}');
        return this.bind(n);
      },
      unbind: (a) => this.unbind(a['force'] === true),
      replay: (a) => {
        const file = a['file'];
        if (typeof file !== 'string' || !file) throw new VfmedError('VFMED_ERR_REPLAY', 'replay needs {file: path}');
        const rate = a['rate'] ?? 'line';
        if (rate !== 'line' && rate !== 'max' && !(typeof rate === 'number' && rate > 0 && rate <= 1e9)) {
          throw new VfmedError('VFMED_ERR_REPLAY', "rate must be 'line', 'max' or frames per second in (0, 1e9]");
        }
        const loop = a['loop'] ?? 1;
        if (typeof loop !== 'number' || !Number.isSafeInteger(loop) || loop < 0) {
          throw new VfmedError('VFMED_ERR_REPLAY', 'loop must be an integer >= 0');
        }
        return this.replay(file, rate as ReplayRateSetting, loop, a['wait'] !== false);
      },
      stop: () => {
        setImmediate(() => void this.stop());
        return { stopping: true };
      },
    };
  }

  /** Stops everything (idempotent); `stopped` resolves when done. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.log.info('vfmed daemon stopping');
    const step = async (what: string, f: () => unknown): Promise<void> => {
      try {
        await f();
      } catch (e) {
        this.log.warn({ err: e }, `stop: ${what} failed`);
      }
    };
    if (this.#rxReadyTimer) clearInterval(this.#rxReadyTimer);
    await step('control socket', () => this.#control?.close());
    await step('VFs', () => this.vfs.unbind(true));
    await step('uplink', () => this.uplink.close());
    await step('PF service', () => this.#service.close());
    await step('PF driver', () => this.pf.close());
    await step('NIC', () => this.nic.destroy());
    await step('PF DMA memory', () => this.#addon.close(this.#dmaFd));
    this.log.info('vfmed daemon stopped');
    this.#resolveStopped();
  }
}
