// Test-side encodings of what the VF mediate driver adds to vfio-user, written from
// <linux/vfio.h>, the vfio-user specification and docs/mediator.md independently of the
// server code: DEVICE_FEATURE payloads, MIG_DATA payloads, the trap-BAR info region.
import { addon } from './daemon-rig.js';
import type { TestClient, Reply } from '../../vfio/helpers/client.js';
import { CMD, REGION, le, regionAccessPayload, regionInfoPayload, parseRegionInfo, parseSparseAreas, irqSetPayload, IRQ_SET } from '../../vfio/helpers/wire.js';

export const FEAT = { GET: 1 << 16, SET: 1 << 17, PROBE: 1 << 18 } as const;
export const FEATURE = {
  MIGRATION: 1, MIG_DEVICE_STATE: 2, DMA_LOGGING_START: 6, DMA_LOGGING_STOP: 7, DMA_LOGGING_REPORT: 8,
  MIG_DATA_SIZE: 9, PRECOPY_INFO: 0xf001,
} as const;
export const ST = { ERROR: 0, STOP: 1, RUNNING: 2, STOP_COPY: 3, RESUMING: 4, RUNNING_P2P: 5, PRE_COPY: 6, PRE_COPY_P2P: 7 } as const;
export const MIG_REGION = 9;
export const TRAP_REGION = 10;
export const LAYOUT_IRQ = 5;
export const TI = { VERSION: 0, GENERATION: 4, TRAPPED_PAGES: 8, APPLIED: 12, TRAP_REQUESTS: 16 } as const;

export function feature(flags: number, data: Buffer = Buffer.alloc(0), argsz?: number): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32LE(argsz ?? 8 + data.length, 0);
  h.writeUInt32LE(flags >>> 0, 4);
  return Buffer.concat([h, data]);
}

export function u32s(...v: number[]): Buffer {
  const b = Buffer.alloc(4 * v.length);
  v.forEach((x, i) => b.writeUInt32LE(x >>> 0, 4 * i));
  return b;
}

export function u64s(...v: bigint[]): Buffer {
  const b = Buffer.alloc(8 * v.length);
  v.forEach((x, i) => b.writeBigUInt64LE(x, 8 * i));
  return b;
}

export function loggingStart(pageSize: bigint, ranges: Array<[bigint, bigint]>): Buffer {
  const h = Buffer.alloc(16);
  h.writeBigUInt64LE(pageSize, 0);
  h.writeUInt32LE(ranges.length, 8);
  return Buffer.concat([h, ...ranges.map(([i, l]) => u64s(i, l))]);
}

export async function setState(c: TestClient, s: number): Promise<Reply> {
  return c.request(CMD.DEVICE_FEATURE, feature(FEAT.SET | FEATURE.MIG_DEVICE_STATE, u32s(s, 0)));
}

export async function getState(c: TestClient): Promise<number> {
  const r = await c.request(CMD.DEVICE_FEATURE, feature(FEAT.GET | FEATURE.MIG_DEVICE_STATE, Buffer.alloc(0), 16));
  if (r.errno) throw new Error(`GET MIG_DEVICE_STATE: errno ${r.errno}`);
  return r.payload.readUInt32LE(8);
}

export async function migRead(c: TestClient, size: number): Promise<Reply & { data: Buffer }> {
  const p = u32s(8 + size, size);
  const r = await c.request(CMD.MIG_DATA_READ, p);
  return { ...r, data: r.errno ? Buffer.alloc(0) : r.payload.subarray(8, 8 + r.payload.readUInt32LE(4)) };
}

export async function migWrite(c: TestClient, data: Buffer): Promise<Reply> {
  return c.request(CMD.MIG_DATA_WRITE, Buffer.concat([u32s(8 + data.length, data.length), data]));
}

/** Reads the stream until a short read; returns the bytes. */
export async function drain(c: TestClient, chunk = 4096): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (;;) {
    const r = await migRead(c, chunk);
    if (r.errno) throw new Error(`MIG_DATA_READ: errno ${r.errno}`);
    parts.push(r.data);
    if (r.data.length < chunk) return Buffer.concat(parts);
  }
}

export async function trapInfo(c: TestClient, off: number): Promise<number> {
  const r = await c.request(CMD.REGION_READ, regionAccessPayload(TRAP_REGION, BigInt(off), 4));
  if (r.errno) throw new Error(`trap info read: errno ${r.errno}`);
  return r.payload.readUInt32LE(16);
}

export async function bar0Areas(c: TestClient): Promise<Array<{ offset: bigint; size: bigint }>> {
  const r = await c.request(CMD.DEVICE_GET_REGION_INFO, regionInfoPayload(REGION.BAR0, 256));
  const info = parseRegionInfo(r.payload);
  for (const fd of r.fds) { addon.close(fd); c.forget(fd); }
  return parseSparseAreas(info.caps.find((x) => x.id === 1)!.body);
}

/** The client side of the trap handshake: read generation, re-query, (unmap), ack. */
export async function applyLayout(c: TestClient): Promise<{ generation: number; areas: Array<{ offset: bigint; size: bigint }> }> {
  const generation = await trapInfo(c, TI.GENERATION);
  const areas = await bar0Areas(c);
  const r = await c.request(CMD.REGION_WRITE, regionAccessPayload(TRAP_REGION, BigInt(TI.APPLIED), 4, le(generation, 4)));
  if (r.errno) throw new Error(`ack: errno ${r.errno}`);
  return { generation, areas };
}

export async function attachLayoutIrq(c: TestClient): Promise<number> {
  const efd = addon.eventfdCreate();
  const r = await c.request(CMD.DEVICE_SET_IRQS,
    irqSetPayload({ flags: IRQ_SET.DATA_EVENTFD | IRQ_SET.ACTION_TRIGGER, index: LAYOUT_IRQ, start: 0, count: 1 }), { fds: [efd] });
  if (r.errno) throw new Error(`SET_IRQS(5): errno ${r.errno}`);
  return efd;
}

/** Waits (bounded) until the eventfd has been signalled; returns its counter. */
export async function waitEventfd(efd: number, ms = 2000): Promise<bigint> {
  for (let i = 0; i < ms; i++) {
    const v = addon.eventfdRead(efd);
    if (v !== null) return v;
    await new Promise((r) => setTimeout(r, 1));
  }
  throw new Error('eventfd never signalled');
}
