/**
 * The daemon's uplink: what is plugged into the emulated NIC's wire side.
 *
 *   egress  (VF → uplink): native sink (native/wire) → pcap capture file and/or TAP;
 *                          with neither, frames leave into an unconnected wire (counted)
 *   ingress (uplink → VF): pcap replay (this process, pcap-replay.ts) and/or the TAP
 *                          reader thread (native)
 *
 * VF ↔ VF traffic never reaches the uplink: the NIC's switch delivers it between pools.
 * The capture is flushed to the file every FLUSH_MS so a reader sees it while it runs;
 * close() finishes it.
 */
import { errnoName, VfmedError } from '../errors.js';
import type { NativeAddon, NativeNic } from '../native/addon.js';
import { readPcapFrames, type PcapFrames } from './pcap-file.js';
import { PcapReplay, type ReplayRate, type ReplayStats } from './pcap-replay.js';
import { createWire, tapOpen, type NativeWire, type RawWireStats } from './wire-native.js';

const FLUSH_MS = 250;

export interface UplinkLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface UplinkStats {
  egress: { frames: number; bytes: number; unclaimed: number; queuedDrops: number };
  ingress: { frames: number; filtered: number };
  capture: { file: string; snaplen: number; frames: number; bytes: number; truncated: number; error: string | null } | null;
  tap: {
    name: string; txFrames: number; txBytes: number; txDrops: number;
    rxFrames: number; rxBytes: number; rxDrops: number; rxBad: number; error: string | null;
  } | null;
  replays: ReplayStats[];
}

export interface ReplayRequest {
  file: string;
  rate?: ReplayRate;
  loop?: number;
}

const n = (v: bigint): number => Number(v);

export class UplinkPort {
  readonly #wire: NativeWire;
  readonly #addon: NativeAddon;
  readonly #nic: NativeNic;
  readonly #log: UplinkLogger;
  readonly #linkBps: number;
  #capture: { file: string } | null = null;
  #tap: { name: string; fd: number } | null = null;
  #flush: NodeJS.Timeout | null = null;
  readonly #replays: PcapReplay[] = [];
  #closed = false;

  constructor(addon: NativeAddon, nic: NativeNic, opts: { log: UplinkLogger; linkBps?: number }) {
    this.#addon = addon;
    this.#nic = nic;
    this.#log = opts.log;
    this.#linkBps = opts.linkBps ?? 1e9;
    this.#wire = createWire(nic);
  }

  get tapName(): string | null {
    return this.#tap?.name ?? null;
  }

  startCapture(file: string, snaplen = 0): void {
    this.#wire.captureStart(file, snaplen);
    this.#capture = { file };
    this.#flush = setInterval(() => {
      try {
        this.#wire.captureFlush();
      } catch (e) {
        this.#log.warn({ err: e, file }, 'uplink capture: flush failed, capture stopped');
        if (this.#flush) clearInterval(this.#flush);
        this.#flush = null;
      }
    }, FLUSH_MS);
    this.#flush.unref();
    this.#log.info({ file, snaplen: snaplen || 65535 }, 'uplink: capturing egress to pcap');
  }

  stopCapture(): void {
    if (!this.#capture) return;
    if (this.#flush) clearInterval(this.#flush);
    this.#flush = null;
    const { file } = this.#capture;
    this.#capture = null;
    this.#wire.captureStop();
    this.#log.info({ file }, 'uplink: capture finished');
  }

  /** Opens a TAP interface (name: e.g. "vfmed0"; empty: the kernel picks) and bridges it. */
  attachTap(name?: string): string {
    let t: { fd: number; name: string };
    try {
      t = tapOpen(name);
    } catch (e) {
      const code = (e as { code?: string }).code;
      const what = `cannot create TAP interface ${name || '(any name)'}`;
      if (code === 'EPERM' || code === 'EACCES') {
        throw new VfmedError('VFMED_ERR_TAP', `${what}: permission denied (needs root or CAP_NET_ADMIN)`);
      }
      if (code === 'ENOENT' || code === 'ENODEV') {
        throw new VfmedError('VFMED_ERR_TAP', `${what}: no /dev/net/tun (load the tun module)`);
      }
      throw new VfmedError('VFMED_ERR_TAP', `${what}: ${code ?? (e as Error).message}`
        + (code === 'EBUSY' || code === 'EINVAL' ? ' (an interface of that name exists and is not a free TAP)' : ''));
    }
    try {
      this.#wire.tapAttach(t.fd);
    } catch (e) {
      this.#addon.close(t.fd);
      throw e;
    }
    this.#tap = t;
    this.#log.info({ tap: t.name }, 'uplink: bridged to TAP interface');
    return t.name;
  }

  detachTap(): void {
    if (!this.#tap) return;
    const t = this.#tap;
    this.#tap = null;
    this.#wire.tapDetach();
    this.#addon.close(t.fd); // the interface goes away with its last fd
    this.#log.info({ tap: t.name }, 'uplink: TAP detached');
  }

  /** Loads a pcap file and starts replaying it into the uplink. */
  async replay(req: ReplayRequest): Promise<PcapReplay> {
    if (this.#closed) throw new Error('uplink is closed');
    const pcap: PcapFrames = await readPcapFrames(req.file);
    const skipped = pcap.skipped.truncated + pcap.skipped.runt + pcap.skipped.oversize;
    if (skipped) this.#log.warn({ file: req.file, ...pcap.skipped }, 'pcap replay: records skipped');
    const r = new PcapReplay(this.#nic, {
      frames: pcap.frames, rate: req.rate, loop: req.loop, linkBps: this.#linkBps, name: req.file,
    });
    this.#replays.push(r);
    r.on('end', (s: ReplayStats) => this.#log.info({ ...s }, 'pcap replay finished'));
    this.#log.info({ file: req.file, frames: pcap.frames.length, rate: req.rate ?? 'line', loop: req.loop ?? 1 },
      'pcap replay started');
    return r.start();
  }

  stats(): UplinkStats {
    const s: RawWireStats = this.#wire.stats();
    return {
      egress: {
        frames: n(s.uplinkTxFrames), bytes: n(s.egressBytes), unclaimed: n(s.unclaimed),
        queuedDrops: n(s.uplinkTxDrops),
      },
      ingress: { frames: n(s.uplinkRxFrames), filtered: n(s.uplinkRxFiltered) },
      capture: this.#capture ? {
        file: this.#capture.file, snaplen: s.capSnaplen, frames: n(s.capFrames), bytes: n(s.capBytes),
        truncated: n(s.capTruncated), error: s.capError ? errnoName(s.capError) : null,
      } : null,
      tap: this.#tap ? {
        name: this.#tap.name, txFrames: n(s.tapTxFrames), txBytes: n(s.tapTxBytes), txDrops: n(s.tapTxDrops),
        rxFrames: n(s.tapRxFrames), rxBytes: n(s.tapRxBytes), rxDrops: n(s.tapRxDrops), rxBad: n(s.tapRxBad),
        error: s.tapError ? errnoName(s.tapError) : null,
      } : null,
      replays: this.#replays.map((r) => r.stats),
    };
  }

  /** Stops replays, detaches the TAP, finishes the capture, removes the sink. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const r of this.#replays) r.stop();
    try {
      this.detachTap();
    } finally {
      try {
        this.stopCapture();
      } finally {
        this.#wire.destroy();
      }
    }
  }
}
