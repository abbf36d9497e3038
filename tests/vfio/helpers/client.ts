// A small vfio-user test client over the real UNIX socket (native transport: real
// SCM_RIGHTS fd passing). It frames requests with wire.ts (spec offsets, not the server
// codec), matches replies by msg_id, and owns the fds that replies bring.
import { closeSync } from 'node:fs';
import { loadTransport, type NativeConnection } from '../../../mediator/vfio/transport-native.js';
import { CMD, F_ERROR, F_REPLY, header, message, versionPayload } from './wire.js';

export interface Reply {
  msgId: number;
  command: number;
  size: number;
  flags: number;
  error: number;
  payload: Buffer;
  fds: number[];
  /** error bit set: the errno, else 0 */
  errno: number;
}

export class TestClient {
  private readonly conn: NativeConnection;
  private nextId = 1;
  private readonly waiting = new Map<number, (r: Reply) => void>();
  private readonly unmatched: Reply[] = [];
  private readonly ownedFds = new Set<number>();
  readonly closed: Promise<number>;

  constructor(readonly path: string) {
    this.conn = loadTransport().connect(path);
    let done!: (e: number) => void;
    this.closed = new Promise((r) => (done = r));
    this.conn.start(
      (msg, fds, _flags) => {
        for (const fd of fds) this.ownedFds.add(fd);
        const r: Reply = {
          msgId: msg.readUInt16LE(0),
          command: msg.readUInt16LE(2),
          size: msg.readUInt32LE(4),
          flags: msg.readUInt32LE(8),
          error: msg.readUInt32LE(12),
          payload: Buffer.from(msg.subarray(16)),
          fds,
          errno: msg.readUInt32LE(8) & F_ERROR ? msg.readUInt32LE(12) : 0,
        };
        const w = this.waiting.get(r.msgId);
        if (w) {
          this.waiting.delete(r.msgId);
          w(r);
        } else {
          this.unmatched.push(r);
        }
      },
      (errno) => {
        for (const [, w] of this.waiting) w({ msgId: -1, command: -1, size: 0, flags: 0, error: 0, payload: Buffer.alloc(0), fds: [], errno: -1 });
        this.waiting.clear();
        done(errno);
      },
    );
  }

  static async connect(path: string, negotiate = true): Promise<TestClient> {
    const c = new TestClient(path);
    if (negotiate) {
      const r = await c.request(CMD.VERSION, versionPayload(0, 2, '{"capabilities":{"max_msg_fds":8}}'));
      if (r.errno) throw new Error(`VERSION failed: errno ${r.errno}`);
    }
    return c;
  }

  allocId(): number {
    const id = this.nextId;
    this.nextId = (this.nextId + 1) & 0xffff;
    return id;
  }

  /** Sends a command and resolves with its reply (msgId may be given to test echoing). */
  request(cmd: number, payload: Buffer = Buffer.alloc(0), opts: { fds?: number[]; flags?: number; msgId?: number } = {}): Promise<Reply> {
    const id = opts.msgId ?? this.allocId();
    const p = new Promise<Reply>((resolve) => this.waiting.set(id, resolve));
    this.conn.send(message(id, cmd, payload, opts.flags ?? 0), opts.fds);
    return p;
  }

  /** Sends raw bytes (malformed framing tests); resolve with the reply for msgId. */
  raw(bytes: Uint8Array, msgId: number, fds?: number[]): Promise<Reply> {
    const p = new Promise<Reply>((resolve) => this.waiting.set(msgId, resolve));
    this.conn.send(bytes, fds);
    return p;
  }

  /** Sends without waiting for anything (NO_REPLY tests, partial messages). */
  sendOnly(bytes: Uint8Array, fds?: number[]): void {
    this.conn.send(bytes, fds);
  }

  /** Replies that matched no request (should stay empty). */
  get stray(): readonly Reply[] {
    return this.unmatched;
  }

  get isClosed(): boolean {
    return this.conn.closed;
  }

  close(): Promise<number> {
    this.conn.destroy();
    for (const fd of this.ownedFds) {
      try {
        closeSync(fd);
      } catch {
        /* the test closed it */
      }
    }
    this.ownedFds.clear();
    return this.closed;
  }

  /** Marks an fd from a reply as closed by the test. */
  forget(fd: number): void {
    this.ownedFds.delete(fd);
  }
}

export function expectReplyShape(r: Reply, cmd: number, msgId: number): void {
  if (r.command !== cmd || r.msgId !== msgId || (r.flags & 0xf) !== F_REPLY || r.size !== 16 + r.payload.length) {
    throw new Error(`bad reply header: ${JSON.stringify({ ...r, payload: r.payload.length })}`);
  }
}

export { header };
