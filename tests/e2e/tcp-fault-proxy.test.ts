// The fault proxy of the live-migration tests, checked on its own with a synthetic stream
// framed as docs/live-migration.md says (header, sections, return records) over loopback
// TCP: the live-migration suites rely on it to act at an exact point of a stream, so it must
// see every section, hold a section back when a callback pauses, flip exactly one byte and
// cut after exactly N bytes.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { crc32 } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { RETURN, SECTION, TcpFaultProxy, type SectionEvent } from './helpers/tcp-fault-proxy.js';

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
}
function u64(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return b;
}

function header(config: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from('VFMEDMIG', 'latin1'), u32(1), u32(44 + config.length), u64(1n << 24n), u64(0n),
    u32(4096), u32(config.length), config]);
  return Buffer.concat([body, u32(crc32(body))]);
}

function section(type: number, payload: Buffer): Buffer {
  const head = Buffer.concat([u32(type), u32(0), u64(BigInt(payload.length))]);
  return Buffer.concat([head, payload, u32(crc32(Buffer.concat([head, payload])))]);
}

function ramPages(round: number, pages: number): Buffer {
  const idx = Buffer.concat(Array.from({ length: pages }, (_, i) => Buffer.concat([u64(BigInt(i)), u32(0)])));
  const data = Buffer.alloc(pages * 4096, round + 1);
  return section(SECTION.RAM_PAGES, Buffer.concat([u32(round), u32(pages), idx, data]));
}

function record(type: number, payload: Buffer): Buffer {
  const head = Buffer.concat([u32(type), u32(payload.length)]);
  return Buffer.concat([head, payload, u32(crc32(Buffer.concat([head, payload])))]);
}

const stream = Buffer.concat([
  header(Buffer.from('{"queues":1}')),
  section(SECTION.DEVICE_INITIAL, Buffer.alloc(300, 7)),
  ramPages(0, 100),
  ramPages(1, 3),
  section(SECTION.DEVICE_STATE, Buffer.alloc(5000, 9)),
  section(SECTION.END, Buffer.alloc(0)),
]);

interface Sink { server: Server; got: Buffer[]; peer: Promise<Socket>; ended: Promise<void> }

async function sink(): Promise<Sink> {
  const got: Buffer[] = [];
  let resolvePeer!: (s: Socket) => void;
  let resolveEnd!: () => void;
  const peer = new Promise<Socket>((r) => (resolvePeer = r));
  const ended = new Promise<void>((r) => (resolveEnd = r));
  const server = createServer((s) => {
    s.on('data', (d: Buffer) => got.push(d));
    s.on('error', () => resolveEnd());
    s.on('close', () => resolveEnd());
    resolvePeer(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, got, peer, ended };
}

/** Polls `cond` (bounded: a broken proxy fails instead of hanging). */
async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached within 5 s');
    await new Promise((r) => setTimeout(r, 5));
  }
}

function port(s: Server): number {
  return (s.address() as { port: number }).port;
}

/** Writes `data` in uneven pieces (so headers straddle chunks), returns the client socket. */
function send(p: TcpFaultProxy, data: Buffer, piece = 1777): Socket {
  const c = connect({ host: '127.0.0.1', port: p.port });
  c.on('error', () => {});
  c.on('connect', () => {
    for (let o = 0; o < data.length; o += piece) c.write(data.subarray(o, o + piece));
  });
  return c;
}

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

async function rig(opts: Partial<Parameters<typeof TcpFaultProxy.start>[0]> = {}): Promise<{ s: Sink; p: TcpFaultProxy }> {
  const s = await sink();
  const p = await TcpFaultProxy.start({ listenHost: '127.0.0.1', target: { host: '127.0.0.1', port: port(s.server) }, ...opts });
  cleanup.push(() => p.close(), () => new Promise<void>((r) => s.server.close(() => r())));
  return { s, p };
}

describe('TcpFaultProxy', () => {
  it('forwards the stream unchanged and reads every section, RAM_PAGES with its round', async () => {
    const { s, p } = await rig();
    const c = send(p, stream);
    const peer = await s.peer;
    peer.write(record(RETURN.COMPAT_OK, Buffer.alloc(0)));
    peer.write(record(RETURN.CONFIRM, u64(123n)));
    let back = Buffer.alloc(0);
    c.on('data', (d: Buffer) => (back = Buffer.concat([back, d])));
    await new Promise<void>((r) => c.on('data', () => back.length >= 2 * 12 + 8 && r()));
    c.end();
    await s.ended;
    expect(Buffer.concat(s.got).equals(stream)).toBe(true);
    expect(p.header).toMatchObject({ version: 1, ramSize: 1n << 24n, pageSize: 4096, configBytes: 12 });
    expect(p.sections.map((x) => [x.name, x.round])).toEqual([
      ['DEVICE_INITIAL', undefined], ['RAM_PAGES', 0], ['RAM_PAGES', 1], ['DEVICE_STATE', undefined], ['END', undefined]]);
    expect(p.sections[1]!.count).toBe(100);
    expect(p.returns.map((r) => r.name)).toEqual(['COMPAT_OK', 'CONFIRM']);
    expect(p.forwarded).toBe(stream.length);
  });

  it('a callback that pauses at a section keeps every byte of it back until resume', async () => {
    let at: SectionEvent | undefined;
    let forwardedAtPause = -1;
    const { s, p } = await rig({
      onSection: (ev, px) => {
        if (ev.type === SECTION.DEVICE_STATE && !at) {
          at = ev;
          forwardedAtPause = px.forwarded;
          px.pause();
        }
      },
    });
    const c = send(p, stream, 333);
    await until(() => at !== undefined && Buffer.concat(s.got).length >= at.offset);
    const before = Buffer.concat(s.got);
    expect(forwardedAtPause).toBe(at!.offset);
    expect(p.forwarded).toBe(at!.offset);
    expect(before.length).toBe(at!.offset);
    expect(before.equals(stream.subarray(0, at!.offset))).toBe(true);
    p.resume();
    await until(() => p.forwarded === stream.length);
    c.end();
    await s.ended;
    expect(Buffer.concat(s.got).equals(stream)).toBe(true);
  });

  it('flips exactly one byte at the offset', async () => {
    const off = 5000;
    const { s, p } = await rig({ flipAt: off, flipMask: 0x01 });
    const c = send(p, stream);
    await until(() => p.forwarded === stream.length);
    c.end();
    await s.ended;
    const got = Buffer.concat(s.got);
    expect(got.length).toBe(stream.length);
    const diff = [...got.keys()].filter((i) => got[i] !== stream[i]);
    expect(diff).toEqual([off]);
    expect(got[off]).toBe(stream[off]! ^ 0x01);
    expect(p.flipped).toBe(true);
  });

  it('cuts after exactly N bytes: the destination gets N, both sides are reset', async () => {
    const n = 123_457;
    const { s, p } = await rig({ cutAfter: n });
    const c = send(p, stream);
    const srcGone = new Promise<void>((r) => c.on('close', () => r()));
    await s.ended;
    await srcGone;
    expect(Buffer.concat(s.got).equals(stream.subarray(0, n))).toBe(true);
    expect(p.closedBy).toBe('cut');
  });
});
