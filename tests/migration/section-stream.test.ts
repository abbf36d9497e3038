// The sectioned migration stream: round trips in arbitrary chunkings, and every kind of
// corruption (flipped byte anywhere, truncation, bad lengths, versions, unknown sections)
// refused at the first bad byte with a stable error code.
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { SECTION_OPTIONAL, StreamReader, StreamWriter, HEADER_BYTES } from '../../mediator/migration/section-stream.js';

const KIND = 7;
const opts = { kind: KIND, major: 1, knownTypes: new Set([1, 2, 3]) };

function sample(): { stream: Buffer; payloads: Buffer[] } {
  const w = new StreamWriter({ major: 1, minor: 0, kind: KIND, flags: 0 });
  const payloads = [Buffer.from('hello'), randomBytes(5000), Buffer.alloc(0), randomBytes(64)];
  w.section(1, payloads[0]!);
  w.section(2, payloads[1]!);
  w.section(3, payloads[2]!);
  w.section(1, payloads[3]!);
  return { stream: w.finish(), payloads };
}

function readAll(stream: Buffer, chunk: number): Buffer[] {
  const r = new StreamReader(opts);
  const got: Buffer[] = [];
  for (let i = 0; i < stream.length; i += chunk) got.push(...r.push(stream.subarray(i, i + chunk)).map((s) => s.payload));
  r.end();
  return got;
}

describe('section stream', () => {
  it('round-trips in any chunking', () => {
    const { stream, payloads } = sample();
    for (const chunk of [1, 3, 7, 16, 100, 4096, stream.length]) expect(readAll(stream, chunk)).toEqual(payloads);
  });

  it('every single flipped byte is detected', () => {
    const { stream } = sample();
    let detected = 0;
    for (let i = 0; i < stream.length; i++) {
      const bad = Buffer.from(stream);
      bad[i]! ^= 0x01;
      try {
        readAll(bad, 997);
      } catch (e) {
        expect((e as { code: string }).code).toMatch(/^VFMED_ERR_STREAM_/);
        detected++;
      }
    }
    expect(detected).toBe(stream.length);
  });

  it('truncation anywhere is reported as truncated, not accepted', () => {
    const { stream } = sample();
    for (const cut of [0, 5, HEADER_BYTES, HEADER_BYTES + 3, 40, stream.length - 1]) {
      const r = new StreamReader(opts);
      r.push(stream.subarray(0, cut));
      expect(() => r.end()).toThrow(expect.objectContaining({ code: 'VFMED_ERR_STREAM_TRUNCATED' }));
    }
  });

  it('refuses data after the end marker, absurd lengths, wrong kind and major', () => {
    const { stream } = sample();
    const r = new StreamReader(opts);
    expect(() => r.push(Buffer.concat([stream, Buffer.from([0])]))).toThrow(/after the end/);

    const huge = Buffer.from(stream.subarray(0, HEADER_BYTES + 12));
    huge.writeUInt32LE(0xfffffff0, HEADER_BYTES + 4);
    expect(() => new StreamReader(opts).push(huge)).toThrow(expect.objectContaining({ code: 'VFMED_ERR_STREAM_CORRUPT' }));

    const v2 = new StreamWriter({ major: 2, minor: 0, kind: KIND, flags: 0 }).finish();
    expect(() => new StreamReader(opts).push(v2)).toThrow(expect.objectContaining({ code: 'VFMED_ERR_STREAM_VERSION', errno: 71 }));
    const otherKind = new StreamWriter({ major: 1, minor: 0, kind: KIND + 1, flags: 0 }).finish();
    expect(() => new StreamReader(opts).push(otherKind)).toThrow(expect.objectContaining({ code: 'VFMED_ERR_STREAM_VERSION' }));
  });

  it('a newer minor: optional unknown sections are skipped, mandatory ones refused', () => {
    const w = new StreamWriter({ major: 1, minor: 3, kind: KIND, flags: 0 });
    w.section(1, Buffer.from('a'));
    w.section(99, Buffer.from('future'), SECTION_OPTIONAL);
    w.section(2, Buffer.from('b'));
    expect(readAll(w.finish(), 5).map(String)).toEqual(['a', 'b']);

    const w2 = new StreamWriter({ major: 1, minor: 3, kind: KIND, flags: 0 });
    w2.section(99, Buffer.from('future'));
    expect(() => readAll(w2.finish(), 64)).toThrow(expect.objectContaining({ code: 'VFMED_ERR_STREAM_VERSION' }));
  });

  it('a section dropped or duplicated in transit breaks the end-marker accounting', () => {
    const w = new StreamWriter({ major: 1, minor: 0, kind: KIND, flags: 0 });
    const s1 = w.section(1, Buffer.from('one'));
    w.section(2, Buffer.from('two'));
    const full = w.finish();
    const dup = Buffer.concat([full.subarray(0, HEADER_BYTES), s1, full.subarray(HEADER_BYTES)]);
    expect(() => readAll(dup, 64)).toThrow(expect.objectContaining({ code: 'VFMED_ERR_STREAM_CORRUPT' }));
    const dropped = Buffer.concat([full.subarray(0, HEADER_BYTES), full.subarray(HEADER_BYTES + s1.length)]);
    expect(() => readAll(dropped, 64)).toThrow(expect.objectContaining({ code: 'VFMED_ERR_STREAM_CORRUPT' }));
  });
});
