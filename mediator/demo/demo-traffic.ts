/**
 * Traffic plan and receive accounting of `vfmed demo`: which frames each stream sends, who
 * must receive them, and the byte-for-byte check of everything that arrives.
 *
 * A stream is (sender, destination MAC, expected receivers). Frame `seq` of a stream is
 * fully determined by (stream id, seq): its length cycles through 60..1514 bytes and its
 * payload is frames.ts's self-describing pattern, so a receiver rebuilds the exact frame it
 * expects and compares every byte, with no copy of what was sent kept around.
 *
 * Every receiver ("vf0", "vf1", "uplink") keeps, per stream, the next sequence number it
 * expects. A frame is:
 *   verified    the expected frame, byte for byte, in order;
 *   corrupt     right stream and seq but different bytes (or a wrong length);
 *   lost        a gap: seq is beyond the expected one (the skipped ones are lost);
 *   duplicate   seq below the expected one;
 *   unexpected  a stream this receiver must not see (e.g. its own broadcast), or not a
 *               demo frame at all.
 * Frames never seen by the end are also lost.
 */
import { buildFrame, checkFrame, MIN_TEST_FRAME, TEST_ETHERTYPE } from './frames.js';

export const BROADCAST = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
const MAX_DEMO_FRAME = 1514;

export type Receiver = string; // "vf0", "vf1", "uplink"

export interface StreamSpec {
  id: number;
  name: string;
  from: number;           // sending VF
  src: Uint8Array;
  dst: Uint8Array;
  receivers: Receiver[];
}

/** Bytes a receiver needs to tell which frame it got (dst, src, type, magic, stream, seq). */
const ID_BYTES = 26;

/**
 * Length of frame `seq` of any stream: 181 is prime to the span (1455), so every run of
 * 1455 consecutive frames uses each length from 60 to 1514 exactly once, in a scattered
 * order (60, 241, 422, ...).
 */
export function demoFrameLength(seq: number): number {
  const span = MAX_DEMO_FRAME - MIN_TEST_FRAME + 1;
  return MIN_TEST_FRAME + ((seq % span) * 181) % span;
}

export function demoFrame(s: StreamSpec, seq: number): Buffer {
  return buildFrame({ dst: s.dst, src: s.src, stream: s.id, seq, len: demoFrameLength(seq) });
}

export interface ReceiverTally {
  verified: number;
  corrupt: number;
  lost: number;
  duplicate: number;
}

export interface StreamTally {
  stream: StreamSpec;
  sent: number;
  /** Per expected receiver. */
  rx: Map<Receiver, ReceiverTally & { next: number }>;
}

const emptyTally = (): ReceiverTally => ({ verified: 0, corrupt: 0, lost: 0, duplicate: 0 });

/** First problems seen, for the report (bounded so a broken run cannot flood memory). */
const MAX_PROBLEMS = 20;

export class TrafficLedger {
  readonly streams: StreamTally[];
  /** Frames a receiver got that belong to no stream it should see. */
  readonly unexpected = new Map<Receiver, number>();
  readonly problems: string[] = [];

  constructor(streams: StreamSpec[]) {
    this.streams = streams.map((stream) => ({
      stream,
      sent: 0,
      rx: new Map(stream.receivers.map((r) => [r, { ...emptyTally(), next: 0 }])),
    }));
  }

  private problem(msg: string): void {
    if (this.problems.length < MAX_PROBLEMS) this.problems.push(msg);
  }

  /** Frames of stream `i` sent but not yet accounted for by its slowest receiver. */
  inFlight(i: number): number {
    const t = this.streams[i]!;
    let min = t.sent;
    for (const r of t.rx.values()) min = Math.min(min, r.next);
    return t.sent - min;
  }

  /** Frames still owed to `receiver` across all streams. */
  owed(receiver: Receiver): number {
    let n = 0;
    for (const t of this.streams) {
      const r = t.rx.get(receiver);
      if (r) n += t.sent - r.next;
    }
    return n;
  }

  /** Accounts one frame that `receiver` got. */
  receive(receiver: Receiver, data: Uint8Array): void {
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    // Identify the frame from its header alone, so a truncated demo frame still counts as
    // a corrupt frame of its stream rather than as foreign traffic.
    if (buf.length < ID_BYTES || buf.readUInt16BE(12) !== TEST_ETHERTYPE) {
      this.bump(receiver, `${receiver}: a ${buf.length}-byte frame that is not a demo frame`);
      return;
    }
    const streamId = buf.readUInt32BE(18);
    const seq = buf.readUInt32BE(22);
    const t = this.streams.find((s) => s.stream.id === streamId);
    const r = t?.rx.get(receiver);
    if (!t || !r) {
      this.bump(receiver, `${receiver}: frame ${streamId}/${seq} of a stream it must not receive`);
      return;
    }
    if (seq < r.next) {
      r.duplicate++;
      this.problem(`${receiver}: ${t.stream.name} seq ${seq} received again (expected ${r.next})`);
      return;
    }
    if (seq >= t.sent) {
      r.corrupt++;
      this.problem(`${receiver}: ${t.stream.name} seq ${seq} was never sent`);
      return;
    }
    if (seq > r.next) {
      r.lost += seq - r.next;
      this.problem(`${receiver}: ${t.stream.name} seq ${r.next}..${seq - 1} lost`);
    }
    r.next = seq + 1;
    const expected = demoFrame(t.stream, seq);
    if (expected.equals(buf)) {
      r.verified++;
      return;
    }
    r.corrupt++;
    let why: string;
    try {
      checkFrame(buf);
      why = buf.length !== expected.length
        ? `length ${buf.length}, expected ${expected.length}`
        : `header differs at byte ${firstDiff(buf, expected)}`;
    } catch (e) {
      why = (e as Error).message;
    }
    this.problem(`${receiver}: ${t.stream.name} seq ${seq} corrupt: ${why}`);
  }

  private bump(receiver: Receiver, msg: string): void {
    this.unexpected.set(receiver, (this.unexpected.get(receiver) ?? 0) + 1);
    this.problem(msg);
  }

  /** Ends the run: whatever was sent and not seen is lost. */
  finish(): void {
    for (const t of this.streams) {
      for (const [name, r] of t.rx) {
        if (r.next < t.sent) {
          r.lost += t.sent - r.next;
          this.problem(`${name}: ${t.stream.name} seq ${r.next}..${t.sent - 1} never arrived`);
          r.next = t.sent;
        }
      }
    }
  }

  /** True when every frame reached every expected receiver intact, and nothing else came. */
  ok(expectedPerStream: number): boolean {
    for (const t of this.streams) {
      if (t.sent !== expectedPerStream) return false;
      for (const r of t.rx.values()) {
        if (r.verified !== t.sent || r.corrupt || r.lost || r.duplicate) return false;
      }
    }
    for (const n of this.unexpected.values()) if (n) return false;
    return true;
  }
}

function firstDiff(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}
