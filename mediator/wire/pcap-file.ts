/**
 * Reading the frames of a pcap file for replay into the uplink, with `pcap-parser`.
 *
 * Accepted: classic libpcap files (tcpdump -w, tshark -F pcap), either byte order, with
 * microsecond or nanosecond timestamps (a nanosecond file's magic is rewritten to the
 * microsecond one before parsing: replay never uses the timestamps, and pcap-parser knows
 * only the classic magic), link type Ethernet. Refused with a one-line reason: pcapng,
 * another link type, a file that ends inside a record, a file above maxBytes, an empty
 * capture. Records the model cannot carry are skipped and counted, never altered: frames
 * captured shorter than they were on the wire (snaplen), shorter than an Ethernet header
 * or longer than the model's largest frame.
 */
import { readFileSync, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { parse } from 'pcap-parser';
import { VfmedError } from '../errors.js';

/** Largest frame the hardware model moves (VFMED_FRAME_MAX, without FCS). */
export const WIRE_FRAME_MAX = 9728;
export const WIRE_FRAME_MIN = 14;
const LINKTYPE_ETHERNET = 1;
const DEFAULT_MAX_BYTES = 1 << 30;

export interface PcapFrames {
  path: string;
  frames: Buffer[];
  /** records left out, by reason */
  skipped: { truncated: number; runt: number; oversize: number };
  snaplen: number;
  nanosecond: boolean;
}

function fail(path: string, why: string): VfmedError {
  return new VfmedError('VFMED_ERR_PCAP', `${path}: ${why}`);
}

/** Loads every frame of a pcap file (see the file comment for what is accepted). */
export async function readPcapFrames(path: string, opts: { maxBytes?: number } = {}): Promise<PcapFrames> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw fail(path, 'not a regular file');
    size = st.size;
  } catch (e) {
    if (e instanceof VfmedError) throw e;
    throw fail(path, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (size > maxBytes) throw fail(path, `${size} bytes, more than the ${maxBytes}-byte limit`);
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw fail(path, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (buf.length < 24) throw fail(path, `too short for a pcap header (${buf.length} bytes)`);
  const magic = buf.readUInt32BE(0);
  let nanosecond = false;
  if (magic === 0x0a0d0d0a) throw fail(path, 'pcapng is not supported (convert it: editcap -F pcap IN OUT)');
  if (magic === 0xa1b23c4d || magic === 0x4d3cb2a1) {
    nanosecond = true;
    buf = Buffer.from(buf);
    if (magic === 0xa1b23c4d) buf.writeUInt32BE(0xa1b2c3d4, 0);
    else buf.writeUInt32BE(0xd4c3b2a1, 0);
  } else if (magic !== 0xa1b2c3d4 && magic !== 0xd4c3b2a1) {
    throw fail(path, `not a pcap file (magic ${magic.toString(16).padStart(8, '0')})`);
  }

  const frames: Buffer[] = [];
  const skipped = { truncated: 0, runt: 0, oversize: 0 };
  let snaplen = 0;
  let problem: string | null = null;
  const parser = parse(Readable.from([buf]));
  await new Promise<void>((resolve) => {
    parser.on('globalHeader', (h) => {
      snaplen = h.snapshotLength;
      if (h.majorVersion !== 2) problem = `unsupported pcap version ${h.majorVersion}.${h.minorVersion}`;
      else if (h.linkLayerType !== LINKTYPE_ETHERNET) problem = `link type ${h.linkLayerType}, not Ethernet (1)`;
    });
    parser.on('packet', (p) => {
      if (problem) return;
      const { capturedLength, originalLength } = p.header;
      if (capturedLength < originalLength) skipped.truncated++;
      else if (capturedLength < WIRE_FRAME_MIN) skipped.runt++;
      else if (capturedLength > WIRE_FRAME_MAX) skipped.oversize++;
      else frames.push(Buffer.from(p.data));
    });
    parser.on('error', (e) => {
      problem ??= e.message;
    });
    parser.on('end', () => resolve());
  });
  if (problem) throw fail(path, problem);
  if (parser.buffer && parser.buffer.length > 0) {
    throw fail(path, 'truncated: the file ends inside a record');
  }
  if (frames.length === 0) {
    const n = skipped.truncated + skipped.runt + skipped.oversize;
    throw fail(path, n ? `none of its ${n} records can be replayed (snaplen-truncated, runt or oversize)` : 'no frames');
  }
  return { path, frames, skipped, snaplen, nanosecond };
}
