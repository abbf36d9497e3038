// Test-side vfio-user wire format, written from the spec tables (docs/interop/vfio-user.rst)
// and <linux/vfio.h> independently of mediator/vfio/messages.ts, so that the server is
// checked against the spec and not against its own codec. Offsets are the spec's.

export const CMD = {
  VERSION: 1, DMA_MAP: 2, DMA_UNMAP: 3, DEVICE_GET_INFO: 4, DEVICE_GET_REGION_INFO: 5,
  DEVICE_GET_REGION_IO_FDS: 6, DEVICE_GET_IRQ_INFO: 7, DEVICE_SET_IRQS: 8, REGION_READ: 9,
  REGION_WRITE: 10, DMA_READ: 11, DMA_WRITE: 12, DEVICE_RESET: 13, REGION_WRITE_MULTI: 15,
  DEVICE_FEATURE: 16, MIG_DATA_READ: 17, MIG_DATA_WRITE: 18,
} as const;

export const F_REPLY = 0x1;
export const F_NO_REPLY = 0x10;
export const F_ERROR = 0x20;

// linux/vfio.h
export const IRQ_SET = { DATA_NONE: 1, DATA_BOOL: 2, DATA_EVENTFD: 4, ACTION_MASK: 8, ACTION_UNMASK: 16, ACTION_TRIGGER: 32 } as const;
export const IRQ_INDEX = { INTX: 0, MSI: 1, MSIX: 2, ERR: 3, REQ: 4 } as const;
export const REGION = { BAR0: 0, BAR1: 1, BAR2: 2, BAR3: 3, BAR4: 4, BAR5: 5, ROM: 6, CONFIG: 7, VGA: 8 } as const;

export function header(msgId: number, cmd: number, size: number, flags = 0, error = 0): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt16LE(msgId, 0);
  b.writeUInt16LE(cmd, 2);
  b.writeUInt32LE(size, 4);
  b.writeUInt32LE(flags, 8);
  b.writeUInt32LE(error, 12);
  return b;
}

export function message(msgId: number, cmd: number, payload: Buffer = Buffer.alloc(0), flags = 0): Buffer {
  return Buffer.concat([header(msgId, cmd, 16 + payload.length, flags), payload]);
}

export function versionPayload(major: number, minor: number, json?: string, nul = true): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16LE(major, 0);
  b.writeUInt16LE(minor, 2);
  if (json === undefined) return b;
  return Buffer.concat([b, Buffer.from(json, 'utf8'), nul ? Buffer.from([0]) : Buffer.alloc(0)]);
}

export function dmaMapPayload(m: { argsz?: number; flags: number; offset: bigint; addr: bigint; size: bigint }): Buffer {
  const b = Buffer.alloc(32);
  b.writeUInt32LE(m.argsz ?? 32, 0);
  b.writeUInt32LE(m.flags, 4);
  b.writeBigUInt64LE(m.offset, 8);
  b.writeBigUInt64LE(m.addr, 16);
  b.writeBigUInt64LE(m.size, 24);
  return b;
}

export function dmaUnmapPayload(u: { argsz?: number; flags?: number; addr: bigint; size: bigint }): Buffer {
  const b = Buffer.alloc(24);
  b.writeUInt32LE(u.argsz ?? 24, 0);
  b.writeUInt32LE(u.flags ?? 0, 4);
  b.writeBigUInt64LE(u.addr, 8);
  b.writeBigUInt64LE(u.size, 16);
  return b;
}

/** argsz, flags, index/num_regions, count/num_irqs: the 16-byte info requests. */
export function fourU32(a: number, b2: number, c: number, d: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32LE(a, 0);
  b.writeUInt32LE(b2, 4);
  b.writeUInt32LE(c, 8);
  b.writeUInt32LE(d, 12);
  return b;
}

export function regionInfoPayload(index: number, argsz = 32): Buffer {
  const b = Buffer.alloc(32);
  b.writeUInt32LE(argsz, 0);
  b.writeUInt32LE(index, 8);
  return b;
}

export interface RegionInfoReply {
  argsz: number; flags: number; index: number; capOffset: number; size: bigint; offset: bigint;
  caps: Array<{ id: number; version: number; next: number; at: number; body: Buffer }>;
}

export function parseRegionInfo(p: Buffer): RegionInfoReply {
  const r: RegionInfoReply = {
    argsz: p.readUInt32LE(0), flags: p.readUInt32LE(4), index: p.readUInt32LE(8), capOffset: p.readUInt32LE(12),
    size: p.readBigUInt64LE(16), offset: p.readBigUInt64LE(24), caps: [],
  };
  let at = r.capOffset;
  for (let n = 0; at !== 0 && n < 16; n++) {
    const next = p.readUInt32LE(at + 4);
    const end = next || p.length;
    r.caps.push({ id: p.readUInt16LE(at), version: p.readUInt16LE(at + 2), next, at, body: p.subarray(at + 8, end) });
    at = next;
  }
  return r;
}

export function parseSparseAreas(body: Buffer): Array<{ offset: bigint; size: bigint }> {
  const n = body.readUInt32LE(0);
  return Array.from({ length: n }, (_, i) => ({ offset: body.readBigUInt64LE(8 + 16 * i), size: body.readBigUInt64LE(16 + 16 * i) }));
}

export function irqSetPayload(s: { argsz?: number; flags: number; index: number; start: number; count: number; data?: Buffer }): Buffer {
  const data = s.data ?? Buffer.alloc(0);
  const b = Buffer.alloc(20);
  b.writeUInt32LE(s.argsz ?? 20 + data.length, 0);
  b.writeUInt32LE(s.flags, 4);
  b.writeUInt32LE(s.index, 8);
  b.writeUInt32LE(s.start, 12);
  b.writeUInt32LE(s.count, 16);
  return Buffer.concat([b, data]);
}

export function regionAccessPayload(region: number, offset: bigint, count: number, data?: Buffer): Buffer {
  const b = Buffer.alloc(16);
  b.writeBigUInt64LE(offset, 0);
  b.writeUInt32LE(region, 8);
  b.writeUInt32LE(count, 12);
  return data ? Buffer.concat([b, data]) : b;
}

export function le(value: number | bigint, size: 1 | 2 | 4 | 8): Buffer {
  const b = Buffer.alloc(size);
  if (size === 8) b.writeBigUInt64LE(BigInt(value));
  else b.writeUIntLE(Number(value), 0, size);
  return b;
}
