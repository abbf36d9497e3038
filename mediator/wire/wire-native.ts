/**
 * Typed view of the addon's uplink-backend exports (native/addon/wire_wrap.cc over
 * native/wire/wire.h) and of its fd watcher (native/addon/fd_watch.cc). The addon is
 * loaded by mediator/native/addon.ts as everywhere else; this file only describes the
 * parts the daemon uses, like vfio/transport-native.ts does for the socket transport.
 *
 * Errors: C -errno becomes VfmedSystemError (syscall = the C function); a call on a Wire
 * whose NIC was destroyed is VfmedError VFMED_ERR_DESTROYED.
 */
import { loadAddon, type NativeNic } from '../native/addon.js';

/** Counters of the uplink port (struct vfmed_wire_stats), 64-bit ones as bigint. */
export interface RawWireStats {
  egressFrames: bigint; egressBytes: bigint; unclaimed: bigint;
  capActive: boolean; capSnaplen: number; capError: number;
  capFrames: bigint; capBytes: bigint; capTruncated: bigint;
  tapActive: boolean; tapError: number;
  tapTxFrames: bigint; tapTxBytes: bigint; tapTxDrops: bigint;
  tapRxFrames: bigint; tapRxBytes: bigint; tapRxDrops: bigint; tapRxBad: bigint;
  uplinkTxFrames: bigint; uplinkTxDrops: bigint; uplinkRxFrames: bigint;
  uplinkRxFiltered: bigint; uplinkQueued: bigint;
}

/** One struct vfmed_wire: installed as the NIC's uplink sink from construction on. */
export interface NativeWire {
  /** pcap capture of every frame leaving the uplink; snaplen 0 = 65535. EBUSY if running. */
  captureStart(path: string, snaplen?: number): void;
  captureFlush(): void;
  /** Flushes and closes; throws the first write error of the capture (ENOSPC ...). */
  captureStop(): void;
  /** Bridges the uplink to a TAP fd (duplicated: the caller still closes its own). */
  tapAttach(fd: number): void;
  tapDetach(): void;
  stats(): RawWireStats;
  /** Removes the sink, stops the TAP thread, finishes the capture. Idempotent. */
  destroy(): void;
}

/** Counters of a lossless fabric (struct vfmed_fabric_stats). */
export interface FabricStats {
  frames: bigint; delivered: bigint; unknown: bigint; overflow: bigint; retries: bigint; pauses: bigint; heldMax: bigint;
  held: number;
}

/** A lossless L2 fabric joining several NICs' uplinks (native/wire/fabric.c). */
export interface NativeFabric {
  stats(): FabricStats;
  /** Unhooks the uplink sinks and stops the fabric's thread. Idempotent. */
  destroy(): void;
}

export interface NativeFdWatch {
  close(): void;
  ref(): void;
  unref(): void;
}

interface RawWireModule {
  Wire: new (nic: NativeNic) => NativeWire;
  tapOpen(name?: string): { fd: number; name: string };
  Fabric: new (nics: NativeNic[]) => NativeFabric;
}

interface RawAddonParts {
  wire: RawWireModule;
  FdWatch: new (fd: number, cb: (errno: number) => void) => NativeFdWatch;
}

function parts(): RawAddonParts {
  return loadAddon() as unknown as RawAddonParts;
}

export function createWire(nic: NativeNic): NativeWire {
  return new (parts().wire.Wire)(nic);
}

/** Joins the uplinks of 1-4 NICs in one lossless fabric (replacing their uplink sinks):
 * a unicast frame goes to the NIC whose VF owns its destination MAC (the sender's own too),
 * waiting while that VF cannot take it (full, or sealed/quiesced by a migration). */
export function createFabric(nics: NativeNic[]): NativeFabric {
  return new (parts().wire.Fabric)(nics);
}

/** Opens a TAP interface (IFF_TAP|IFF_NO_PI, up); it exists while the fd is open. */
export function tapOpen(name?: string): { fd: number; name: string } {
  return parts().wire.tapOpen(name);
}

/** Calls cb(0) from the event loop whenever fd is readable (cb must drain it), or cb(errno)
 * once if polling fails. */
export function watchFd(fd: number, cb: (errno: number) => void): NativeFdWatch {
  return new (parts().FdWatch)(fd, cb);
}
