/**
 * One client connection: glues a NativeConnection (bytes + fds) to a Dispatcher (protocol)
 * and owns the fds of each message until a handler takes them. Also the "refusing"
 * connection used when the device already has a client: it answers the first message
 * with EBUSY and hangs up.
 *
 * The attached client's connection also owns the native fast path (fast-path.ts): what
 * the transport served natively is synced into the device before each message handled
 * here, the fast path is paused while a command is pending, and the device's policy is
 * asked again after each message.
 *
 * Framing errors reported by the transport are answered here, with the header's msg_id:
 * size < 16 (EINVAL), size > the server's maximum (EMSGSIZE; the body is discarded
 * unread), fds dropped by the kernel or our cap (EINVAL).
 */
import { constants } from 'node:os';
import { Dispatcher, messageChannel, type DispatchResult } from './dispatcher.js';
import { FastPathLink } from './fast-path.js';
import { isPromise, type MaybePromise, type VfioDevice } from './device.js';
import { decodeHeader, errorReply, type Header } from './messages.js';
import { Flag, MAX_REQUEST_SIZE } from './protocol.js';
import { ReceivedFds } from './session.js';
import { TransportMsgFlag, type NativeConnection, type PeerCred } from './transport-native.js';

const { EBUSY, EINVAL, EMSGSIZE } = constants.errno;

export interface ConnectionLogger {
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Error reply for a message the transport could not frame, or null. */
function framingError(msg: Buffer, flags: number): { hdr: Header; errno: number } | null {
  if (!(flags & (TransportMsgFlag.BADSIZE | TransportMsgFlag.OVERSIZE | TransportMsgFlag.FDS_TRUNCATED))) return null;
  const hdr = decodeHeader(msg);
  const errno = flags & TransportMsgFlag.OVERSIZE ? EMSGSIZE : EINVAL;
  return { hdr, errno };
}

abstract class BaseConnection {
  private closedPromise: Promise<number>;
  private resolveClosed!: (errno: number) => void;

  constructor(
    protected readonly conn: NativeConnection,
    protected readonly log: ConnectionLogger,
  ) {
    this.closedPromise = new Promise((r) => (this.resolveClosed = r));
  }

  get peer(): PeerCred | null {
    return this.conn.peer;
  }

  /** Resolves with the errno that ended the connection (0 = orderly). */
  get closed(): Promise<number> {
    return this.closedPromise;
  }

  start(): void {
    this.conn.setMaxMessageSize(MAX_REQUEST_SIZE);
    this.conn.start(
      (msg, fds, flags) => this.onMessage(msg, fds, flags),
      (errno) => {
        let r: MaybePromise<void> = undefined;
        try {
          r = this.onClosed(errno);
        } finally {
          if (isPromise(r)) void r.finally(() => this.resolveClosed(errno));
          else this.resolveClosed(errno);
        }
      },
    );
  }

  destroy(): void {
    this.conn.destroy();
  }

  protected send(r: DispatchResult): void {
    if (r.out) this.conn.send(r.out.bytes, r.out.fds);
    if (r.close) this.conn.end();
  }

  private onMessage(msg: Buffer, fdList: number[], flags: number): void {
    const fds = new ReceivedFds(fdList);
    let pending = false;
    try {
      const bad = framingError(msg, flags);
      if (bad) {
        this.log.debug({ command: bad.hdr.command, msgId: bad.hdr.msgId, size: bad.hdr.size, errno: bad.errno }, 'vfio-user: unframeable message');
        const noReply = (bad.hdr.flags & Flag.NO_REPLY) !== 0;
        this.send({ out: noReply ? null : { bytes: errorReply(bad.hdr, bad.errno), fds: [] }, close: false });
        return;
      }
      const r = this.handle(msg, fds);
      if (isPromise(r)) {
        // An asynchronous command: the next messages are handled meanwhile; this reply
        // goes out when it completes (the client matches replies by msg_id).
        pending = true;
        r.then(
          (res) => this.sendSafely(res),
          (e: unknown) => this.log.error({ err: e }, 'vfio-user: dispatcher promise rejected'),
        ).finally(() => fds.closeRest());
        return;
      }
      this.send(r);
    } catch (e) {
      this.dropAfter(e);
    } finally {
      if (!pending) fds.closeRest();
    }
  }

  private sendSafely(r: DispatchResult): void {
    if (this.conn.closed) return;
    try {
      this.send(r);
    } catch (e) {
      this.dropAfter(e);
    }
  }

  /** Only the transport can throw here (the dispatcher turns everything into replies):
   * the peer is gone or misbehaving beyond repair. */
  private dropAfter(e: unknown): void {
    this.log.warn({ err: e }, 'vfio-user: dropping connection');
    this.conn.destroy();
  }

  protected abstract handle(msg: Buffer, fds: ReceivedFds): MaybePromise<DispatchResult>;
  /** The connection ended; `closed` resolves once the returned promise (if any) settles. */
  protected abstract onClosed(errno: number): MaybePromise<void>;
}

/** The attached client of a device. */
export class VfioConnection extends BaseConnection {
  readonly dispatcher: Dispatcher;
  readonly fastPath: FastPathLink;

  constructor(
    conn: NativeConnection,
    device: VfioDevice,
    log: ConnectionLogger,
    private readonly onRelease: (errno: number, releaseError: unknown) => void,
  ) {
    super(conn, log);
    this.dispatcher = new Dispatcher(device, (e, hdr) =>
      log.error({ err: e, command: hdr.command, msgId: hdr.msgId, device: device.name }, 'vfio-user: internal error handling a message'),
    );
    const session = this.dispatcher.session;
    this.fastPath = new FastPathLink(conn, device, {
      allowed: () => session.negotiated && !session.closeAfterReply && !messageChannel.hasSubscribers,
      onError: (e, what) => log.error({ err: e, device: device.name }, `vfio-user: ${what} failed; served by the dispatcher`),
    });
  }

  override start(): void {
    this.dispatcher.device.attachFastPath?.(this.fastPath);
    super.start();
  }

  protected handle(msg: Buffer, fds: ReceivedFds): MaybePromise<DispatchResult> {
    const fp = this.fastPath;
    fp.sync(); // what the transport served before this message happened before it
    const r = this.dispatcher.dispatch(msg, fds);
    if (isPromise(r)) {
      fp.beginAsync();
      return r.finally(() => fp.endAsync());
    }
    fp.refresh();
    return r;
  }

  /** The client is gone: release the device (DMA windows, IRQ eventfds). */
  protected onClosed(errno: number): MaybePromise<void> {
    this.fastPath.close();
    try {
      this.dispatcher.device.attachFastPath?.(null);
    } catch (e) {
      this.log.error({ err: e, device: this.dispatcher.device.name }, 'vfio-user: detaching the fast path failed');
    }
    const failed = (e: unknown): void => {
      this.log.error({ err: e, device: this.dispatcher.device.name }, 'vfio-user: releasing the device failed');
      this.onRelease(errno, e);
    };
    try {
      const r = this.dispatcher.device.release();
      if (isPromise(r)) return r.then(() => this.onRelease(errno, null), failed);
      this.onRelease(errno, null);
    } catch (e) {
      failed(e);
    }
  }
}

/** A second client while the device is attached: EBUSY to its first message, then close. */
export class RefusedConnection extends BaseConnection {
  constructor(
    conn: NativeConnection,
    log: ConnectionLogger,
    private readonly onGone: () => void,
  ) {
    super(conn, log);
  }

  protected handle(msg: Buffer, _fds: ReceivedFds): DispatchResult {
    const hdr = decodeHeader(msg);
    return { out: { bytes: errorReply(hdr, EBUSY), fds: [] }, close: true };
  }

  protected onClosed(_errno: number): void {
    this.onGone();
  }
}
