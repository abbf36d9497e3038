// The native socket transport on its own: framing of partial reads, fd attribution to the
// message that carried them, partial writes with queued output (and the fds of a queued
// message), backpressure when a peer stops reading, the framing flags, EOF handling and
// errors as VfmedSystemError. A tiny echo-style server on the raw transport is used here,
// no vfio-user semantics.
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { VfmedSystemError } from '../../mediator/errors.js';
import { loadTransport, TransportMsgFlag, type NativeConnection, type NativeListener } from '../../mediator/vfio/transport-native.js';
import { addon, openFdCount, until } from './helpers/rig.js';
import { header } from './helpers/wire.js';

const t = loadTransport();

interface Got {
  msg: Buffer;
  fds: number[];
  flags: number;
}

let dir: string;
let listener: NativeListener;
let server: NativeConnection | null;
let got: Got[];
let serverClosed: number | null;
/** what the test server does with each message (default: record it) */
let onServerMessage: (m: Got, conn: NativeConnection) => void;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vfmed-transport-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  got = [];
  server = null;
  serverClosed = null;
  onServerMessage = () => {};
  listener = new t.Listener(join(dir, 's.sock'), (conn) => {
    server = conn;
    conn.start(
      (msg, fds, flags) => {
        const m = { msg: Buffer.from(msg), fds, flags };
        got.push(m);
        onServerMessage(m, conn);
      },
      (errno) => (serverClosed = errno),
    );
  });
});
afterEach(async () => {
  for (const m of got) m.fds.forEach((fd) => closeSync(fd));
  server?.destroy();
  listener.close();
  await until(() => server === null || server.closed, 'server side closed');
});

function msg(id: number, payloadLen: number, fill = id & 0xff): Buffer {
  const b = Buffer.alloc(16 + payloadLen, fill);
  header(id, 9, 16 + payloadLen).copy(b, 0);
  return b;
}
function client(): { conn: NativeConnection; replies: Got[]; closed: Promise<number> } {
  const conn = t.connect(join(dir, 's.sock'));
  const replies: Got[] = [];
  let done!: (e: number) => void;
  const closed = new Promise<number>((r) => (done = r));
  conn.start((m, fds, flags) => replies.push({ msg: Buffer.from(m), fds, flags }), (e) => done(e));
  return { conn, replies, closed };
}

describe('framing', () => {
  it('a message written one byte at a time is delivered once, whole, with the fd sent with its first byte', async () => {
    const { conn } = client();
    const m = msg(1, 40);
    const efd = addon.eventfdCreate();
    for (let i = 0; i < m.length; i++) {
      conn.send(m.subarray(i, i + 1), i === 0 ? [efd] : undefined);
      await new Promise((r) => setImmediate(r));
    }
    await until(() => got.length === 1, 'the message');
    expect(got[0]!.msg).toEqual(m);
    expect(got[0]!.flags).toBe(0);
    expect(got[0]!.fds).toHaveLength(1);
    expect(readlinkSync(`/proc/self/fd/${got[0]!.fds[0]}`)).toBe('anon_inode:[eventfd]');
    conn.destroy();
    addon.close(efd);
  });

  it('fds go to the message that carried them, also when messages queue up back to back', async () => {
    const { conn } = client();
    const a = addon.eventfdCreate();
    const b = addon.memfdCreate('b', 4096n);
    conn.send(msg(1, 8), [a]);
    conn.send(msg(2, 8));
    conn.send(msg(3, 8), [b, a]);
    conn.send(msg(4, 0));
    await until(() => got.length === 4, 'four messages');
    expect(got.map((g) => [g.msg.readUInt16LE(0), g.fds.length])).toEqual([[1, 1], [2, 0], [3, 2], [4, 0]]);
    expect(fstatSync(got[2]!.fds[0]!).isFile()).toBe(true); // the memfd, in order
    conn.destroy();
    addon.close(a);
    addon.close(b);
  });

  it('size < 16 is delivered as BADSIZE (header only); size > max as OVERSIZE and the body is skipped', async () => {
    const { conn } = client();
    await until(() => server !== null, 'accept');
    server!.setMaxMessageSize(64);
    expect(server!.maxMessageSize).toBe(64);
    const efd = addon.eventfdCreate();
    const before = openFdCount();
    conn.send(header(1, 9, 12));
    conn.send(msg(2, 200, 0xee), [efd]); // oversized, with an fd
    conn.send(msg(3, 8));
    await until(() => got.length === 3, 'three deliveries');
    expect(got.map((g) => [g.msg.readUInt16LE(0), g.msg.length, g.flags])).toEqual([
      [1, 16, TransportMsgFlag.BADSIZE],
      [2, 16, TransportMsgFlag.OVERSIZE],
      [3, 24, 0],
    ]);
    expect(got[1]!.fds).toHaveLength(1); // fds that came with the header are delivered...
    closeSync(got[1]!.fds.pop()!);
    expect(openFdCount()).toBe(before); // ...and nothing else was kept
    conn.destroy();
    addon.close(efd);
  });

  it('more fds than the per-message cap: the first 32 are delivered, FDS_TRUNCATED, the rest closed', async () => {
    const { conn } = client();
    await until(() => server !== null, 'accept');
    const efd = addon.eventfdCreate();
    const before = openFdCount();
    conn.send(msg(1, 4), Array(40).fill(efd));
    await until(() => got.length === 1, 'the message');
    expect(got[0]!.flags & TransportMsgFlag.FDS_TRUNCATED).toBe(TransportMsgFlag.FDS_TRUNCATED);
    expect(got[0]!.fds).toHaveLength(t.constants.MAX_FDS);
    expect(openFdCount()).toBe(before + t.constants.MAX_FDS);
    conn.destroy();
    addon.close(efd);
  });
});

describe('output', () => {
  it('a 6 MiB message to a peer that is not reading is queued, then arrives intact with its fd', async () => {
    const conn = t.connect(join(dir, 's.sock')); // not started: not reading yet
    await until(() => server !== null, 'accept');
    const big = Buffer.alloc(6 << 20);
    for (let i = 0; i < big.length; i += 4) big.writeUInt32LE(i * 2654435761 >>> 0, i);
    header(7, 9, big.length).copy(big, 0);
    const memfd = addon.memfdCreate('queued-fd', 8192n);
    server!.send(big, [memfd]);
    expect(server!.queuedBytes).toBeGreaterThan(0); // the socket buffer is far smaller
    addon.close(memfd); // the queued message holds its own duplicate
    const replies: Got[] = [];
    conn.setMaxMessageSize(8 << 20);
    conn.start((m, fds, flags) => replies.push({ msg: Buffer.from(m), fds, flags }), () => {});
    await until(() => replies.length === 1, 'the big message');
    const hash = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    expect(hash(replies[0]!.msg)).toBe(hash(big));
    expect(fstatSync(replies[0]!.fds[0]!).size).toBe(8192);
    expect(server!.queuedBytes).toBe(0);
    closeSync(replies[0]!.fds[0]!);
    conn.destroy();
  });

  it('backpressure: a peer that stops reading makes the server stop reading too, bounded queue', async () => {
    let maxQueued = 0;
    onServerMessage = (_m, conn) => {
      conn.send(msg(1, 1 << 20)); // 1 MiB answer to every request
      maxQueued = Math.max(maxQueued, conn.queuedBytes);
    };
    const conn = t.connect(join(dir, 's.sock'));
    await until(() => server !== null, 'accept');
    for (let i = 0; i < 24; i++) conn.send(msg(100 + i, 0));
    await until(() => got.length >= 5, 'the server to answer some');
    await new Promise((r) => setTimeout(r, 20));
    expect(got.length).toBeLessThan(24); // it stopped reading: requests wait in the socket
    expect(maxQueued).toBeLessThanOrEqual(t.constants.QUEUE_HIGH + (1 << 20) + 16);
    const replies: Got[] = [];
    conn.setMaxMessageSize(2 << 20);
    conn.start((m, fds, flags) => replies.push({ msg: m, fds, flags }), () => {});
    await until(() => replies.length === 24, 'every answer once the client reads');
    expect(got.length).toBe(24);
    conn.destroy();
  });
});

describe('closing and errors', () => {
  it('orderly EOF between messages reports 0; EOF inside a message reports ECONNRESET', async () => {
    const a = client();
    await until(() => server !== null, 'accept');
    a.conn.send(msg(1, 4));
    await until(() => got.length === 1, 'the message');
    a.conn.end();
    await until(() => serverClosed !== null, 'server close');
    expect(serverClosed).toBe(0);

    server = null;
    serverClosed = null;
    const b = client();
    await until(() => server !== null, 'accept');
    b.conn.send(msg(2, 40).subarray(0, 30));
    await new Promise((r) => setTimeout(r, 5));
    b.conn.destroy();
    await until(() => serverClosed !== null, 'server close');
    expect(serverClosed).toBe(104); // ECONNRESET: a truncated message
  });

  it('send on a closed connection and connect to a missing socket throw VfmedSystemError', async () => {
    const a = client();
    a.conn.destroy();
    await a.closed;
    expect(() => a.conn.send(msg(1, 0))).toThrow(VfmedSystemError);
    let err: unknown;
    try {
      t.connect(join(dir, 'nobody.sock'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VfmedSystemError);
    expect((err as VfmedSystemError).code).toBe('ENOENT');
    expect(() => new t.Listener(join(dir, 'no/such/dir.sock'), () => {})).toThrow(/ENOENT/);
  });

  it('argument errors are TypeError/RangeError', () => {
    const a = client();
    expect(() => a.conn.send('nope' as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => a.conn.send(msg(1, 0), [-1])).toThrow(RangeError);
    expect(() => a.conn.send(msg(1, 0), Array(300).fill(0))).toThrow(RangeError);
    expect(() => a.conn.setMaxMessageSize(3)).toThrow(RangeError);
    a.conn.destroy();
  });
});
