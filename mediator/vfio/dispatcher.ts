/**
 * Per-connection dispatcher: one table entry per vfio-user command, session rules around
 * it, every failure turned into an error reply carrying an errno.
 *
 *   message ─▶ header checks ─▶ session (VERSION first) ─▶ fd policy ─▶ table[cmd](...)
 *                  │                  │                       │              │
 *                  └──── EINVAL ──────┴────── EINVAL ─────────┘   reply / error reply
 *
 * Session rules: VERSION must come first and only once (EINVAL otherwise); a command that
 * does not carry fds must not bring any, and no message may bring more than the
 * max_msg_fds we advertised (EINVAL). Commands the spec defines for the server-to-client
 * direction (DMA_READ/DMA_WRITE) are EINVAL; commands this server does not implement, and
 * unassigned ids, are ENOTSUP. NO_REPLY suppresses the reply, also an error reply.
 *
 * MIG_DATA_READ/WRITE go to the device's optional migDataRead/migDataWrite (ENOTSUP without
 * them). Later layers may still add or replace commands with register().
 */
import diagnostics_channel from 'node:diagnostics_channel';
import { constants } from 'node:os';
import { isPromise, type MaybePromise, type VfioDevice } from './device.js';
import { handleDeviceFeature, handleDeviceReset } from './handlers/device-control.js';
import { handleDmaMap, handleDmaUnmap } from './handlers/dma.js';
import { handleDeviceGetInfo, handleDeviceGetIrqInfo, handleDeviceGetRegionInfo } from './handlers/info.js';
import { handleDeviceSetIrqs } from './handlers/irqs.js';
import { handleMigDataRead, handleMigDataWrite } from './handlers/mig-data.js';
import { handleRegionRead, handleRegionWrite, handleRegionWriteMulti } from './handlers/region-access.js';
import { handleVersion } from './handlers/version.js';
import { decodeHeader, errorReply, msgError, reply, type Header } from './messages.js';
import { Cmd, commandName, Flag, ServerLimits } from './protocol.js';
import { newSession, type Handler, type HandlerResult, type ReceivedFds, type Session } from './session.js';

const { EINVAL, EIO, ENOTSUP } = constants.errno;

/** Published for every handled message (observability of the hot path, no logging cost
 * when nobody subscribes): { device, command, msgId, errno, noReply }. */
export const messageChannel = diagnostics_channel.channel('vfmed:vfio-user:message');

export interface MessageEvent {
  device: string;
  command: number;
  msgId: number;
  /** 0 on success */
  errno: number;
  noReply: boolean;
}

/** What to send back. fds are borrowed (the transport duplicates them if it must wait). */
export interface Outgoing {
  bytes: Uint8Array;
  fds: readonly number[];
}

export interface DispatchResult {
  out: Outgoing | null;
  /** end the connection after sending */
  close: boolean;
}

interface Entry {
  handler: Handler;
  /** the command may carry fds */
  fds: boolean;
}

const notSupported: Handler = (_ctx, hdr) => {
  throw msgError(`${commandName(hdr.command)} is not supported by this server`, ENOTSUP);
};
const wrongDirection: Handler = (_ctx, hdr) => {
  throw msgError(`${commandName(hdr.command)} is a server-to-client command`, EINVAL);
};

function defaultTable(): Map<number, Entry> {
  return new Map<number, Entry>([
    [Cmd.VERSION, { handler: handleVersion, fds: false }],
    [Cmd.DMA_MAP, { handler: handleDmaMap, fds: true }],
    [Cmd.DMA_UNMAP, { handler: handleDmaUnmap, fds: false }],
    [Cmd.DEVICE_GET_INFO, { handler: handleDeviceGetInfo, fds: false }],
    [Cmd.DEVICE_GET_REGION_INFO, { handler: handleDeviceGetRegionInfo, fds: false }],
    [Cmd.DEVICE_GET_REGION_IO_FDS, { handler: notSupported, fds: false }],
    [Cmd.DEVICE_GET_IRQ_INFO, { handler: handleDeviceGetIrqInfo, fds: false }],
    [Cmd.DEVICE_SET_IRQS, { handler: handleDeviceSetIrqs, fds: true }],
    [Cmd.REGION_READ, { handler: handleRegionRead, fds: false }],
    [Cmd.REGION_WRITE, { handler: handleRegionWrite, fds: false }],
    [Cmd.DMA_READ, { handler: wrongDirection, fds: false }],
    [Cmd.DMA_WRITE, { handler: wrongDirection, fds: false }],
    [Cmd.DEVICE_RESET, { handler: handleDeviceReset, fds: false }],
    [Cmd.REGION_WRITE_MULTI, { handler: handleRegionWriteMulti, fds: false }],
    [Cmd.DEVICE_FEATURE, { handler: handleDeviceFeature, fds: false }],
    [Cmd.MIG_DATA_READ, { handler: handleMigDataRead, fds: false }],
    [Cmd.MIG_DATA_WRITE, { handler: handleMigDataWrite, fds: false }],
  ]);
}

/** errno to put in the reply for an error thrown by a handler or the device. */
export function errnoOf(e: unknown): number {
  const n = (e as { errno?: unknown } | null)?.errno;
  return typeof n === 'number' && Number.isInteger(n) && n > 0 && n < 4096 ? n : EIO;
}

export class Dispatcher {
  readonly session: Session = newSession();
  private readonly table = defaultTable();

  constructor(
    readonly device: VfioDevice,
    /** called for errors that are not protocol errors (bugs, device failures) */
    private readonly onInternalError: (e: unknown, hdr: Header) => void = () => {},
  ) {}

  /** Adds or replaces a command handler (the seam for migration commands). */
  register(cmd: number, handler: Handler, acceptsFds = false): void {
    this.table.set(cmd, { handler, fds: acceptsFds });
  }

  /**
   * Handles one whole message. fds: what came with it (the caller closes what is left
   * once the result has settled). Returns a promise only when a handler went async.
   */
  dispatch(msg: Uint8Array, fds: ReceivedFds): MaybePromise<DispatchResult> {
    const hdr = decodeHeader(msg);
    let result: MaybePromise<HandlerResult | void>;
    try {
      result = this.run(hdr, msg.subarray(16), fds);
    } catch (e) {
      return this.finish(hdr, undefined, e);
    }
    if (isPromise(result)) {
      return result.then(
        (r) => this.finish(hdr, r, null),
        (e: unknown) => this.finish(hdr, undefined, e ?? new Error('rejected')),
      );
    }
    return this.finish(hdr, result, null);
  }

  private finish(hdr: Header, result: HandlerResult | void, error: unknown): DispatchResult {
    let errno = 0;
    if (error !== null) {
      errno = errnoOf(error);
      if (!(error instanceof Error) || !('errno' in error)) this.onInternalError(error, hdr);
    }
    const noReply = (hdr.flags & Flag.NO_REPLY) !== 0;
    if (messageChannel.hasSubscribers) {
      messageChannel.publish({ device: this.device.name, command: hdr.command, msgId: hdr.msgId, errno, noReply } satisfies MessageEvent);
    }
    const close = this.session.closeAfterReply;
    if (noReply) return { out: null, close };
    if (errno) return { out: { bytes: errorReply(hdr, errno), fds: [] }, close };
    return { out: { bytes: reply(hdr, result?.payload), fds: result?.fds ?? [] }, close };
  }

  private run(hdr: Header, payload: Uint8Array, fds: ReceivedFds): MaybePromise<HandlerResult | void> {
    if ((hdr.flags & Flag.TYPE_MASK) !== Flag.TYPE_COMMAND) throw msgError(`message type ${hdr.flags & Flag.TYPE_MASK} is not a command`);
    if (hdr.size !== 16 + payload.byteLength) throw msgError(`size field ${hdr.size} != ${16 + payload.byteLength} bytes received`);
    if (!this.session.negotiated && hdr.command !== Cmd.VERSION) throw msgError(`${commandName(hdr.command)} before VERSION`);
    if (this.session.negotiated && hdr.command === Cmd.VERSION) throw msgError('VERSION already negotiated');
    const entry = this.table.get(hdr.command);
    if (!entry) throw msgError(`unknown command ${hdr.command}`, ENOTSUP);
    if (fds.count > ServerLimits.maxMsgFds) throw msgError(`${fds.count} fds, max_msg_fds is ${ServerLimits.maxMsgFds}`);
    if (fds.count > 0 && !entry.fds) throw msgError(`${commandName(hdr.command)} takes no fds, got ${fds.count}`);
    return entry.handler({ device: this.device, session: this.session }, hdr, payload, fds);
  }
}
