/**
 * Per-connection state shared by the dispatcher and the command handlers: what VERSION
 * negotiated, the fds that came with the message being handled, and the handler types.
 */
import { closeSync } from 'node:fs';
import type { MaybePromise, VfioDevice } from './device.js';
import type { Header } from './messages.js';

/** What VERSION established for this connection. */
export interface Session {
  negotiated: boolean;
  major: number;
  minor: number;
  /** fds the client accepts per message (spec default 1) */
  clientMaxMsgFds: number;
  /** largest data count the client accepts in one message (spec default 1 MiB) */
  clientMaxDataXferSize: number;
  /** the client proposed write_multiple and we accepted it */
  writeMultiple: boolean;
  /** close the connection once the current reply is sent */
  closeAfterReply: boolean;
}

export function newSession(): Session {
  return {
    negotiated: false,
    major: 0,
    minor: 0,
    clientMaxMsgFds: 1,
    clientMaxDataXferSize: 1 << 20,
    writeMultiple: false,
    closeAfterReply: false,
  };
}

/**
 * The fds received with one message. Handlers take() the ones they hand on; whatever is
 * left is closed by closeRest() after the handler, whatever happened, so a message never
 * leaks a descriptor.
 */
export class ReceivedFds {
  private readonly fds: Array<number | null>;

  constructor(fds: readonly number[]) {
    this.fds = [...fds];
  }

  get count(): number {
    return this.fds.length;
  }

  /** Borrow fd i (still closed by closeRest). */
  peek(i: number): number {
    const fd = this.fds[i];
    if (fd === null || fd === undefined) throw new RangeError(`fd ${i} not available`);
    return fd;
  }

  /** Take ownership of fd i. */
  take(i: number): number {
    const fd = this.peek(i);
    this.fds[i] = null;
    return fd;
  }

  takeAll(): number[] {
    return this.fds.map((_, i) => this.take(i));
  }

  closeRest(): void {
    for (let i = 0; i < this.fds.length; i++) {
      const fd = this.fds[i];
      if (fd === null || fd === undefined) continue;
      this.fds[i] = null;
      try {
        closeSync(fd);
      } catch {
        // already closed by someone else: nothing leaks either way
      }
    }
  }
}

/** A successful handler result: reply payload and fds to send with it (borrowed). */
export interface HandlerResult {
  payload?: Uint8Array;
  fds?: readonly number[];
}

export interface HandlerContext {
  readonly device: VfioDevice;
  readonly session: Session;
}

/** One command. Throws an error with an errno (VfmedError/VfmedSystemError) to fail it. */
export type Handler = (
  ctx: HandlerContext,
  hdr: Header,
  payload: Uint8Array,
  fds: ReceivedFds,
) => MaybePromise<HandlerResult | void>;
