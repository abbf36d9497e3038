// The destination against a hand-made migration stream (docs/live-migration.md, "The
// migration stream"): a test plays the source over real TCP and sends corrupt pieces —
// a flipped byte under a section's CRC, a bad magic, an oversized length, sections out of
// order — and the destination must answer ERROR (or REFUSED) on the return path with a
// message naming what was wrong, release its VF and exit 1, having applied nothing.
import { rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { crc32 } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { DaemonRig } from '../mediate/helpers/daemon-rig.js';
import { GuestProcess } from '../mediate/helpers/guest-process.js';
import { monitorPath, startIncoming } from './helpers/live-rig.js';
import { MonitorClient } from '../helpers/monitor-client.js';

let rigs: DaemonRig[] = [];
let guests: GuestProcess[] = [];
afterEach(async () => {
  for (const g of guests) await g.stop();
  guests = [];
  for (const r of rigs) await r.close();
  rigs = [];
});

const RAM = 4 << 20;
const ARGS = ['rxsink', '--ring', '64', '--ram', '4M', '--stats-interval', '0'];
const CONFIG = 'vfmed-guest/2 workload=rxsink queues=1 tx_ring=64 rx_ring=64 rx_sets=1 rx_buf_kib=2 tx_split=0 ram_base=0';

function u32(v: number): Buffer { const b = Buffer.alloc(4); b.writeUInt32LE(v >>> 0); return b; }
function u64(v: bigint | number): Buffer { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); return b; }
const withCrc = (b: Buffer) => Buffer.concat([b, u32(crc32(b))]);

function header(config = CONFIG, opts: { magic?: string; ram?: number } = {}): Buffer {
  const cfg = Buffer.from(config);
  return withCrc(Buffer.concat([Buffer.from(opts.magic ?? 'VFMEDMIG'), u32(1), u32(40 + cfg.length + 4), u64(opts.ram ?? RAM), u64(0),
    u32(4096), u32(cfg.length), cfg]));
}

function section(type: number, payload: Buffer): Buffer {
  return withCrc(Buffer.concat([u32(type), u32(0), u64(payload.length), payload]));
}

function ramPages(round: number, pages: Array<[number, number]>): Buffer {
  const recs = pages.map(([p, kind]) => Buffer.concat([u64(p), u32(kind)]));
  const data = pages.filter(([, k]) => k === 0).map(([p]) => Buffer.alloc(4096, p & 0xff));
  return section(2, Buffer.concat([u32(round), u32(pages.length), ...recs, ...data]));
}

/** Connects, sends the pieces, collects the return path until the destination closes. */
async function play(port: number, pieces: Buffer[], opts: { waitCompat?: boolean } = {}): Promise<Array<{ type: number; text: string }>> {
  const sock: Socket = await new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  let rx = Buffer.alloc(0);
  const msgs: Array<{ type: number; text: string }> = [];
  const closed = new Promise<void>((resolve) => { sock.on('close', () => resolve()); sock.on('error', () => resolve()); });
  sock.on('data', (d: Buffer) => {
    rx = Buffer.concat([rx, d]);
    while (rx.length >= 12 && rx.length >= 12 + rx.readUInt32LE(4)) {
      const len = rx.readUInt32LE(4);
      expect(rx.readUInt32LE(8 + len)).toBe(crc32(rx.subarray(0, 8 + len)));
      msgs.push({ type: rx.readUInt32LE(0), text: rx.subarray(8, 8 + len).toString() });
      rx = rx.subarray(12 + len);
    }
  });
  for (const p of pieces) {
    sock.write(p);
    if (opts.waitCompat && msgs.length === 0 && p === pieces[1]) {
      for (let i = 0; i < 200 && msgs.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    }
  }
  await closed;
  return msgs;
}

async function destination(tag: string) {
  const b = new DaemonRig(tag);
  rigs.push(b);
  const d = await startIncoming(b, ARGS);
  guests.push(d.guest);
  return d;
}

/**
 * A DEVICE_INITIAL the mediator accepts, and the header a real source sends: a real
 * source runner migrates to a listener here, which keeps the first two units and refuses.
 */
async function captureSource(): Promise<{ header: Buffer; initial: Buffer }> {
  const a = new DaemonRig('cap');
  rigs.push(a);
  const mon = monitorPath('cap');
  const src = new GuestProcess([ARGS[0]!, '--socket', a.path(0), '--monitor', mon, ...ARGS.slice(1)]);
  guests.push(src);
  await src.waitFor((l) => l.type === 'init', 'the source up');
  let got = Buffer.alloc(0);
  const srv = createServer();
  const captured = new Promise<{ header: Buffer; initial: Buffer }>((resolve) => {
    srv.on('connection', (c) => {
      c.on('data', (d: Buffer) => {
        got = Buffer.concat([got, d]);
        const hlen = got.length >= 16 ? got.readUInt32LE(12) : Infinity;
        if (got.length < hlen + 16) return;
        const plen = Number(got.readBigUInt64LE(hlen + 8));
        if (got.length < hlen + 16 + plen + 4) return;
        const text = Buffer.from('captured');
        c.end(withCrc(Buffer.concat([u32(2), u32(text.length), text])));
        resolve({ header: got.subarray(0, hlen), initial: got.subarray(hlen + 16, hlen + 16 + plen) });
      });
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const client = await MonitorClient.connect(mon, 10_000);
  try {
    const port = (srv.address() as { port: number }).port;
    expect(await client.request({ cmd: 'migrate', to: `127.0.0.1:${port}` })).toMatchObject({ ok: true });
    const cap = await captured;
    expect(await client.waitEvent((e) => e['event'] === 'failed', 'the refusal')).toMatchObject({
      stage: 'compat', source_running: true, error: 'refused by the destination: captured',
    });
    return cap;
  } finally {
    client.close();
    srv.close();
    rmSync(mon, { force: true });
  }
}

describe('the destination validates the stream before applying it', () => {
  it('a flipped byte under a RAM_PAGES CRC: ERROR naming the section and the CRC, exit 1', async () => {
    const { guest, port } = await destination('crc');
    const { header: realHeader, initial: init } = await captureSource();
    expect(realHeader.equals(header())).toBe(true); // the TS encoder above is the real format
    const bad = ramPages(0, [[1, 0], [2, 1]]);
    bad[16 + 8 + 24 + 100] ^= 0x04; // inside page data
    const msgs = await play(port, [header(), section(1, init), bad], { waitCompat: true });
    expect(msgs.map((m) => m.type)).toEqual([1, 4]); // COMPAT_OK, then ERROR
    expect(msgs[1]!.text).toMatch(/RAM_PAGES section of 4128 bytes: CRC mismatch/);
    expect((await guest.exited).code).toBe(1);
    expect(guest.stderr).toMatch(/incoming migration failed: RAM_PAGES section .* CRC mismatch/);
  });

  it('bad magic, oversized section, sections out of order: each named', async () => {
    const cases: Array<[string, Buffer[], RegExp, number]> = [
      ['magic', [header(CONFIG, { magic: 'VFMEDXXX' })], /bad magic/, 4],
      ['config', [header(CONFIG.replace('rx_ring=64', 'rx_ring=128'))], /guest configuration differs/, 2],
      ['ramsize', [header(CONFIG, { ram: 8 << 20 })], /guest RAM differs/, 2],
      ['order', [header(), ramPages(0, [[1, 1]])], /RAM_PAGES section before DEVICE_INITIAL/, 4],
      ['huge', [header(), Buffer.concat([u32(3), u32(0), u64(1n << 40n)])], /DEVICE_STATE section: payload_bytes 1099511627776 over the limit/, 4],
      ['type', [header(), Buffer.concat([u32(42), u32(0), u64(0)])], /section type 42 is unknown/, 4],
    ];
    for (const [tag, pieces, re, type] of cases) {
      const { guest, port } = await destination(`s${tag}`);
      const msgs = await play(port, pieces);
      expect(msgs, tag).toHaveLength(1);
      expect(msgs[0]!.type, tag).toBe(type); // 2 REFUSED (incompatible), 4 ERROR (malformed)
      expect(msgs[0]!.text, tag).toMatch(re);
      expect((await guest.exited).code, tag).toBe(1);
    }
  });
});
