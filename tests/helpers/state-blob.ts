/**
 * Reading and re-sealing VF state blobs (pf_regs.h "VF state blob") in tests: parse the
 * header and section table, and recompute the CRC-32 after a deliberate edit, so a test can
 * build blobs that are well-formed on the outside but wrong inside (version, model,
 * section type, lengths) and check that the device refuses each for the right reason.
 *
 *   0       8     10    12         16        20         24     28   32
 *   | magic | maj | min | total_len | model_id | sec_count | crc32 | vf | sections...
 *   section: | type u16 | version u16 | len u32 | payload, padded to 8 |
 */

export const STATE_MAGIC = 0x53465644454d4656n;
export const HDR_LEN = 32;
export const OFF = { magic: 0, major: 8, minor: 10, totalLen: 12, modelId: 16, sectionCount: 20, crc32: 24, vf: 28 } as const;

let table: Uint32Array | undefined;
function crcTable(): Uint32Array {
  if (table) return table;
  table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

/** IEEE CRC-32 (zlib's crc32). */
export function crc32(buf: Uint8Array): number {
  const t = crcTable();
  let c = 0xffffffff;
  for (const b of buf) c = t[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Recomputes the blob's crc32 field (CRC of the whole blob with the field zeroed). */
export function reseal(blob: Buffer): Buffer {
  const b = Buffer.from(blob);
  b.writeUInt32LE(0, OFF.crc32);
  b.writeUInt32LE(crc32(b), OFF.crc32);
  return b;
}

export interface Section {
  offset: number; // of the section header
  type: number;
  version: number;
  len: number;
}

export function sections(blob: Buffer): Section[] {
  const out: Section[] = [];
  const n = blob.readUInt32LE(OFF.sectionCount);
  let off = HDR_LEN;
  for (let i = 0; i < n; i++) {
    if (off + 8 > blob.length) throw new Error(`section ${i} header beyond the blob`);
    const s = { offset: off, type: blob.readUInt16LE(off), version: blob.readUInt16LE(off + 2), len: blob.readUInt32LE(off + 4) };
    out.push(s);
    off += 8 + Math.ceil(s.len / 8) * 8;
  }
  return out;
}

/** Appends a section (type, version, payload) and fixes total_len, section_count, crc. */
export function appendSection(blob: Buffer, type: number, version: number, payload: Uint8Array): Buffer {
  const padded = Math.ceil(payload.length / 8) * 8;
  const sec = Buffer.alloc(8 + padded);
  sec.writeUInt16LE(type, 0);
  sec.writeUInt16LE(version, 2);
  sec.writeUInt32LE(payload.length, 4);
  sec.set(payload, 8);
  const b = Buffer.concat([blob, sec]);
  b.writeUInt32LE(b.length, OFF.totalLen);
  b.writeUInt32LE(b.readUInt32LE(OFF.sectionCount) + 1, OFF.sectionCount);
  return reseal(b);
}

/** A tiny deterministic PRNG (xorshift32) for fuzzing without flakiness. */
export function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}
