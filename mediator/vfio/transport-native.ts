/**
 * Typed view of the native vfio-user socket transport (native/transport, exported by the
 * addon as `transport`), loaded through loadAddon() like every other native piece.
 *
 * The transport cuts the byte stream into vfio-user messages using the header's size
 * field and passes fds with SCM_RIGHTS; it knows nothing else of the protocol. Errors it
 * throws are re-thrown as VfmedSystemError (code/errno/syscall).
 */
import { VfmedSystemError } from '../errors.js';
import { loadAddon, type NativeNic } from '../native/addon.js';

/** Flags delivered with a message (native/transport/transport.h). */
export const TransportMsgFlag = {
  /** size field above the limit: only the header is delivered, the body is discarded */
  OVERSIZE: 0x1,
  /** size field below 16: only the header is delivered */
  BADSIZE: 0x2,
  /** some fds of this message were dropped (closed) by the kernel or the fd cap */
  FDS_TRUNCATED: 0x4,
} as const;

/** What the native fast path served since the last take (native/transport/fast-path.h). */
export interface FastPathDrain {
  /** (dword index, count) pairs */
  reads: Uint32Array;
  writes: Uint32Array;
  /** 6 numbers per logged tail write: kind (1 rx, 2 tx), queue, head, old tail, new tail, addresses */
  log: Uint32Array;
  /** RX descriptor buffer addresses of the logged writes, in order; NaN = unknown */
  addrs: Float64Array;
}

export interface FastPathTotals {
  reads: number;
  writes: number;
  /** served accesses the device failed (answered with its errno) */
  errors: number;
  logged: number;
  /** tail writes left to JS because they could not be logged exactly */
  declinedLog: number;
  /** logged tail writes posted to the register memory (postTails) */
  posted: number;
  paused: boolean;
  tailLog: boolean;
}

/** What the transport may serve natively for one region (mediator/vfio/fast-path.ts).
 * Masks: bit i (LSB first) = dword i. */
export interface NativeFastPathPolicy {
  nic: NativeNic;
  vf: number;
  region: number;
  /** bytes; masks have regionSize / 32 bytes */
  regionSize: number;
  read: Uint8Array;
  write: Uint8Array;
  /**
   * Log RDT0/1 / TDT0/1 4-byte writes (for the tail-trap tracker), reading posted RX
   * descriptors through these guest memory mappings. The buffers must stay mapped while
   * the policy is installed (withdraw() it before unmapping). `postTails`: a logged tail
   * write is stored into the register memory the device polls (what a passthrough store
   * does) instead of being processed inside the call.
   */
  tailLog?: { windows: ReadonlyArray<{ iova: bigint; buffer: ArrayBuffer }>; postTails?: boolean } | null;
}

export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
}

/** One connected socket. */
export interface NativeConnection {
  /**
   * Starts reading. onMessage gets each whole message (header included) and the fds that
   * came with it; from then on the fds belong to the callee, which must close them.
   * onClose is called once: errno 0 for an orderly end, else why the connection ended.
   */
  start(onMessage: (msg: Buffer, fds: number[], flags: number) => void, onClose: (errno: number) => void): void;
  /** Sends a whole message; the fds are sent with it (the caller keeps its own copies). */
  send(data: Uint8Array, fds?: readonly number[]): void;
  /** Stops reading and closes once queued output is written. */
  end(): void;
  /** Closes now (queued output is dropped). */
  destroy(): void;
  /** Messages whose size field is larger are refused (OVERSIZE) and their body discarded. */
  setMaxMessageSize(bytes: number): void;
  readonly maxMessageSize: number;
  readonly queuedBytes: number;
  readonly closed: boolean;
  /** SO_PEERCRED of the other end */
  readonly peer: PeerCred | null;
  /** Installs (null: removes) the native fast-path policy; what the old one served and was
   * not taken is dropped. */
  setFastPath(policy: NativeFastPathPolicy | null): void;
  /** A paused fast path hands every message to onMessage. */
  setFastPathPaused(paused: boolean): void;
  /** What the fast path served since the last call (null: nothing). */
  takeFastPath(): FastPathDrain | null;
  /** Since the policy was installed; null without a policy. */
  readonly fastPathTotals: FastPathTotals | null;
}

/** A listening UNIX socket (mode 0600, created without depending on the umask). */
export interface NativeListener {
  readonly path: string;
  readonly closed: boolean;
  /** Stops accepting and removes the socket file if it is still ours. */
  close(): void;
}

export interface NativeTransport {
  Listener: new (path: string, onConnection: (conn: NativeConnection) => void, backlog?: number) => NativeListener;
  connect(path: string): NativeConnection;
  constants: {
    HEADER_SIZE: number;
    /** fds accepted with one received message (more are closed, FDS_TRUNCATED) */
    MAX_FDS: number;
    /** fds one send() may carry (Linux SCM_MAX_FD) */
    MAX_SEND_FDS: number;
    MSG_OVERSIZE: number;
    MSG_BADSIZE: number;
    MSG_FDS_TRUNCATED: number;
    QUEUE_HIGH: number;
  };
}

function rethrow(e: unknown): never {
  const x = e as { errno?: unknown; syscall?: unknown; message?: unknown };
  if (e instanceof Error && typeof x.errno === 'number' && typeof x.syscall === 'string') {
    const detail = /\((.*)\)$/.exec(e.message)?.[1];
    throw new VfmedSystemError(x.syscall, x.errno, detail);
  }
  throw e;
}

/** Delegates to the native object; errors become VfmedSystemError. */
class Connection implements NativeConnection {
  constructor(private readonly raw: NativeConnection) {}
  start(onMessage: (msg: Buffer, fds: number[], flags: number) => void, onClose: (errno: number) => void): void {
    try {
      this.raw.start(onMessage, onClose);
    } catch (e) {
      rethrow(e);
    }
  }
  send(data: Uint8Array, fds?: readonly number[]): void {
    try {
      this.raw.send(data, fds ? [...fds] : undefined);
    } catch (e) {
      rethrow(e);
    }
  }
  end(): void {
    this.raw.end();
  }
  destroy(): void {
    this.raw.destroy();
  }
  setMaxMessageSize(bytes: number): void {
    this.raw.setMaxMessageSize(bytes);
  }
  get maxMessageSize(): number {
    return this.raw.maxMessageSize;
  }
  get queuedBytes(): number {
    return this.raw.queuedBytes;
  }
  get closed(): boolean {
    return this.raw.closed;
  }
  get peer(): PeerCred | null {
    return this.raw.peer;
  }
  setFastPath(policy: NativeFastPathPolicy | null): void {
    try {
      this.raw.setFastPath(policy);
    } catch (e) {
      rethrow(e);
    }
  }
  setFastPathPaused(paused: boolean): void {
    this.raw.setFastPathPaused(paused);
  }
  takeFastPath(): FastPathDrain | null {
    return this.raw.takeFastPath();
  }
  get fastPathTotals(): FastPathTotals | null {
    return this.raw.fastPathTotals;
  }
}

let cached: NativeTransport | undefined;

/** The transport of the loaded addon, with errors mapped to VfmedSystemError. */
export function loadTransport(): NativeTransport {
  if (cached) return cached;
  const raw = (loadAddon() as unknown as { transport?: NativeTransport }).transport;
  if (!raw || typeof raw.Listener !== 'function' || typeof raw.connect !== 'function') {
    throw new Error('vfmed: the addon has no vfio-user transport (native/addon init must call vfmed_transport_init)');
  }
  const RawListener = raw.Listener;
  const Listener = function (path: string, onConnection: (conn: NativeConnection) => void, backlog?: number) {
    try {
      return new RawListener(path, (conn) => onConnection(new Connection(conn)), backlog);
    } catch (e) {
      rethrow(e);
    }
  } as unknown as NativeTransport['Listener'];
  cached = {
    Listener,
    connect(path: string): NativeConnection {
      try {
        return new Connection(raw.connect(path));
      } catch (e) {
        rethrow(e);
      }
    },
    constants: raw.constants,
  };
  return cached;
}
