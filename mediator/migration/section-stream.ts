/**
 * Framing shared by every vfmed migration stream (the device state a VF hands out over
 * MIG_DATA_READ / the v1 region, and the host-to-host live migration stream): a versioned
 * header, typed sections each with its own CRC-32, and an end marker that carries the
 * section count and a CRC over everything before it. A receiver validates as data arrives
 * and refuses a stream at the first bad byte, before anything is applied.
 *
 *   +--------------------------- header (16 bytes) ----------------------------+
 *   | magic u32 | major u16 | minor u16 | kind u16 | flags u16 | reserved u32  |
 *   +----------------------------------------------------------------------------+
 *   | section: type u16 | flags u16 | length u32 | crc32(payload) u32 | payload |  (repeated)
 *   | end:     0xFFFF   | 0         | 8          | crc32(8)           | count u32, crc32(all before) u32 |
 *   +----------------------------------------------------------------------------+
 *
 * A section type the reader does not know is skipped when its OPTIONAL flag is set and
 * refused otherwise: that is how a newer minor version stays loadable by an older reader.
 */
import { crc32 } from 'node:zlib';
import { VfmedError } from '../errors.js';

export const STREAM_MAGIC = 0x534d4656; // "VFMS"
export const SECTION_END = 0xffff;
export const SECTION_OPTIONAL = 0x0001;
export const HEADER_BYTES = 16;
export const SECTION_HEADER_BYTES = 12;
/** No section may claim more than this: a corrupt length must not make us buffer GiBs. */
export const MAX_SECTION_BYTES = 256 * 1024 * 1024;

const EBADMSG = 74, EPROTO = 71;

export interface StreamHeader {
  major: number;
  minor: number;
  kind: number;
  flags: number;
}

export interface Section {
  type: number;
  flags: number;
  payload: Buffer;
}

/** Stream corruption (EBADMSG) or incompatibility (EPROTO), with a stable code. */
export class StreamError extends VfmedError {
  constructor(code: 'VFMED_ERR_STREAM_CORRUPT' | 'VFMED_ERR_STREAM_VERSION' | 'VFMED_ERR_STREAM_TRUNCATED', message: string) {
    super(code, message, code === 'VFMED_ERR_STREAM_VERSION' ? EPROTO : EBADMSG);
    this.name = 'StreamError';
  }
}

export function encodeHeader(h: StreamHeader): Buffer {
  const b = Buffer.alloc(HEADER_BYTES);
  b.writeUInt32LE(STREAM_MAGIC, 0);
  b.writeUInt16LE(h.major, 4);
  b.writeUInt16LE(h.minor, 6);
  b.writeUInt16LE(h.kind, 8);
  b.writeUInt16LE(h.flags, 10);
  return b;
}

export function encodeSection(type: number, payload: Uint8Array, flags = 0): Buffer {
  if (type === SECTION_END) throw new RangeError('section type 0xFFFF is reserved for the end marker');
  if (payload.length > MAX_SECTION_BYTES) throw new RangeError(`section of ${payload.length} bytes exceeds ${MAX_SECTION_BYTES}`);
  const h = Buffer.alloc(SECTION_HEADER_BYTES);
  h.writeUInt16LE(type, 0);
  h.writeUInt16LE(flags, 2);
  h.writeUInt32LE(payload.length, 4);
  h.writeUInt32LE(crc32(payload), 8);
  return Buffer.concat([h, payload]);
}

/**
 * Builds a stream incrementally. Streaming users send `header`, then what each section()
 * returns, then what end() returns; finish() is the same as one buffer.
 */
export class StreamWriter {
  readonly header: Buffer;
  #crc: number;
  #count = 0;
  #chunks: Buffer[] = [];
  #ended = false;

  constructor(header: StreamHeader) {
    this.header = encodeHeader(header);
    this.#crc = crc32(this.header);
    this.#chunks.push(this.header);
  }

  /** Adds a section and returns its encoded bytes. */
  section(type: number, payload: Uint8Array, flags = 0): Buffer {
    if (this.#ended) throw new Error('section after the end marker');
    const b = encodeSection(type, payload, flags);
    this.#crc = crc32(b, this.#crc);
    this.#count++;
    this.#chunks.push(b);
    return b;
  }

  /** Appends the end marker and returns its bytes. */
  end(): Buffer {
    if (this.#ended) throw new Error('end marker written twice');
    this.#ended = true;
    const body = Buffer.alloc(8);
    body.writeUInt32LE(this.#count, 0);
    body.writeUInt32LE(this.#crc, 4);
    const h = Buffer.alloc(SECTION_HEADER_BYTES);
    h.writeUInt16LE(SECTION_END, 0);
    h.writeUInt32LE(8, 4);
    h.writeUInt32LE(crc32(body), 8);
    const marker = Buffer.concat([h, body]);
    this.#chunks.push(marker);
    return marker;
  }

  /** Appends the end marker; returns the whole stream. */
  finish(): Buffer {
    this.end();
    return Buffer.concat(this.#chunks);
  }
}

export interface ReaderOptions {
  /** Accepted (kind, major); minors up to `maxMinor` are read, newer optional sections skipped. */
  kind: number;
  major: number;
  /** Section types this reader understands. */
  knownTypes: ReadonlySet<number>;
}

/**
 * Incremental validating reader: push() chunks as they arrive; it returns the sections that
 * became complete and throws StreamError at the first corrupt, truncated-by-end-marker or
 * incompatible byte. `done` turns true after a valid end marker; bytes after it are refused.
 */
export class StreamReader {
  #buf: Buffer = Buffer.alloc(0);
  #crc = 0;
  #count = 0;
  #header: StreamHeader | undefined;
  #done = false;

  constructor(private readonly opts: ReaderOptions) {}

  get header(): StreamHeader | undefined {
    return this.#header;
  }

  get done(): boolean {
    return this.#done;
  }

  /** Bytes received but not yet forming a whole section. */
  get pendingBytes(): number {
    return this.#buf.length;
  }

  push(chunk: Uint8Array): Section[] {
    if (this.#done) {
      if (chunk.length) throw new StreamError('VFMED_ERR_STREAM_CORRUPT', 'data after the end of the migration stream');
      return [];
    }
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : Buffer.from(chunk);
    const out: Section[] = [];
    if (!this.#header) {
      if (this.#buf.length < HEADER_BYTES) return out;
      this.#header = this.#parseHeader(this.#buf.subarray(0, HEADER_BYTES));
      this.#consume(HEADER_BYTES, true);
    }
    while (!this.#done && this.#buf.length >= SECTION_HEADER_BYTES) {
      const type = this.#buf.readUInt16LE(0);
      const flags = this.#buf.readUInt16LE(2);
      const len = this.#buf.readUInt32LE(4);
      const crc = this.#buf.readUInt32LE(8);
      if (len > MAX_SECTION_BYTES) throw new StreamError('VFMED_ERR_STREAM_CORRUPT', `section type ${type} claims ${len} bytes (max ${MAX_SECTION_BYTES})`);
      if (this.#buf.length < SECTION_HEADER_BYTES + len) break;
      const payload = this.#buf.subarray(SECTION_HEADER_BYTES, SECTION_HEADER_BYTES + len);
      if (crc32(payload) !== crc) throw new StreamError('VFMED_ERR_STREAM_CORRUPT', `section type ${type}: checksum mismatch`);
      if (type === SECTION_END) {
        if (len !== 8 || flags !== 0) throw new StreamError('VFMED_ERR_STREAM_CORRUPT', `malformed end marker (length ${len}, flags ${flags})`);
        const count = payload.readUInt32LE(0), total = payload.readUInt32LE(4);
        if (count !== this.#count) throw new StreamError('VFMED_ERR_STREAM_CORRUPT', `end marker counts ${count} sections, ${this.#count} received`);
        if (total !== this.#crc) throw new StreamError('VFMED_ERR_STREAM_CORRUPT', 'stream checksum mismatch');
        this.#consume(SECTION_HEADER_BYTES + len, false);
        this.#done = true;
        if (this.#buf.length) throw new StreamError('VFMED_ERR_STREAM_CORRUPT', 'data after the end of the migration stream');
        break;
      }
      const copy = Buffer.from(payload);
      this.#consume(SECTION_HEADER_BYTES + len, true);
      this.#count++;
      if (!this.opts.knownTypes.has(type)) {
        if (flags & SECTION_OPTIONAL) continue;
        throw new StreamError('VFMED_ERR_STREAM_VERSION', `unknown mandatory section type ${type} (stream ${this.#header.major}.${this.#header.minor})`);
      }
      out.push({ type, flags, payload: copy });
    }
    return out;
  }

  /** Call when the sender says the stream is over: throws unless the end marker was seen. */
  end(): void {
    if (!this.#done) {
      throw new StreamError('VFMED_ERR_STREAM_TRUNCATED', `migration stream truncated (${this.#count} sections, ${this.#buf.length} stray bytes, no end marker)`);
    }
  }

  #consume(n: number, addToCrc: boolean): void {
    if (addToCrc) this.#crc = crc32(this.#buf.subarray(0, n), this.#crc);
    this.#buf = this.#buf.subarray(n);
  }

  #parseHeader(b: Buffer): StreamHeader {
    const magic = b.readUInt32LE(0);
    if (magic !== STREAM_MAGIC) throw new StreamError('VFMED_ERR_STREAM_CORRUPT', `bad stream magic 0x${magic.toString(16)}`);
    const h = { major: b.readUInt16LE(4), minor: b.readUInt16LE(6), kind: b.readUInt16LE(8), flags: b.readUInt16LE(10) };
    if (h.kind !== this.opts.kind) throw new StreamError('VFMED_ERR_STREAM_VERSION', `stream kind ${h.kind}, expected ${this.opts.kind}`);
    if (h.major !== this.opts.major) throw new StreamError('VFMED_ERR_STREAM_VERSION', `stream version ${h.major}.${h.minor} is not loadable (this build reads ${this.opts.major}.x)`);
    return h;
  }
}
