/**
 * Ethernet test frames for the demo and the hardware tests: a 14-byte header, then a
 * self-describing payload (magic, stream id, sequence number, length) and a pattern derived
 * from all three, so a receiver can check every byte of a frame and tell exactly which frame
 * it is (exactly-once accounting across migration) without keeping copies of what was sent.
 *
 *   0      6      12    14      18      22      26      30
 *   | dst  | src  | type | magic | stream| seq   | len   | pattern ... |
 */

export const TEST_ETHERTYPE = 0x88b5; // IEEE local experimental
const MAGIC = 0x76666d64; // "vfmd"
const HDR = 30;
export const MIN_TEST_FRAME = 60;

export function mac(s: string): Uint8Array {
  const parts = s.split(':').map((x) => Number.parseInt(x, 16));
  if (parts.length !== 6 || parts.some((b) => !Number.isInteger(b) || b < 0 || b > 255)) {
    throw new RangeError(`bad MAC address ${s}`);
  }
  return Uint8Array.from(parts);
}

export function macString(m: Uint8Array): string {
  return Array.from(m, (b) => b.toString(16).padStart(2, '0')).join(':');
}

function patternAt(stream: number, seq: number, i: number): number {
  let x = (Math.imul(i + 0x3c6ef372, 0x9e3779b1) ^ Math.imul(seq + 1, 0x85ebca6b) ^ Math.imul(stream + 3, 0xc2b2ae35)) >>> 0;
  x ^= x >>> 13;
  return x & 0xff;
}

export interface TestFrameSpec {
  dst: Uint8Array;
  src: Uint8Array;
  stream: number;
  seq: number;
  /** Total frame length without FCS (>= 60). */
  len: number;
}

export function buildFrame(spec: TestFrameSpec): Buffer {
  if (!Number.isInteger(spec.len) || spec.len < MIN_TEST_FRAME || spec.len > 0xffff) {
    throw new RangeError(`test frame length ${spec.len} (60..65535)`);
  }
  const b = Buffer.alloc(spec.len);
  b.set(spec.dst, 0);
  b.set(spec.src, 6);
  b.writeUInt16BE(TEST_ETHERTYPE, 12);
  b.writeUInt32BE(MAGIC, 14);
  b.writeUInt32BE(spec.stream >>> 0, 18);
  b.writeUInt32BE(spec.seq >>> 0, 22);
  b.writeUInt32BE(spec.len, 26);
  for (let i = HDR; i < spec.len; i++) b[i] = patternAt(spec.stream, spec.seq, i);
  return b;
}

export interface ParsedFrame {
  dst: Uint8Array;
  src: Uint8Array;
  stream: number;
  seq: number;
  len: number;
}

/**
 * Checks a received frame byte for byte against what buildFrame() produced for the same
 * header fields. Throws an Error naming the first bad byte; returns the parsed header.
 */
export function checkFrame(b: Uint8Array): ParsedFrame {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (buf.length < MIN_TEST_FRAME) throw new Error(`frame of ${buf.length} bytes is too short`);
  if (buf.readUInt16BE(12) !== TEST_ETHERTYPE || buf.readUInt32BE(14) !== MAGIC) {
    throw new Error(`not a test frame (type 0x${buf.readUInt16BE(12).toString(16)})`);
  }
  const stream = buf.readUInt32BE(18);
  const seq = buf.readUInt32BE(22);
  const len = buf.readUInt32BE(26);
  if (len !== buf.length) throw new Error(`frame ${stream}/${seq}: length ${buf.length}, header says ${len}`);
  for (let i = HDR; i < len; i++) {
    if (buf[i] !== patternAt(stream, seq, i)) {
      throw new Error(`frame ${stream}/${seq}: byte ${i} is 0x${buf[i]!.toString(16)}, expected 0x${patternAt(stream, seq, i).toString(16)}`);
    }
  }
  return { dst: buf.subarray(0, 6), src: buf.subarray(6, 12), stream, seq, len };
}
