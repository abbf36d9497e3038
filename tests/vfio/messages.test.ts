// Codec details the socket tests do not isolate: the region capability chain (offsets,
// 8-byte alignment, `next` links), the truncated region info reply, header framing and
// the shape checks of the decoders.
import { describe, expect, it } from 'vitest';
import { VfmedError } from '../../mediator/errors.js';
import * as m from '../../mediator/vfio/messages.js';
import { RegionCap, RegionFlag } from '../../mediator/vfio/protocol.js';

describe('region info capability chain', () => {
  const info = { flags: RegionFlag.READ | RegionFlag.MMAP, index: 9, size: 0x10000n, offset: 0x1000n };
  const caps: m.RegionCapability[] = [
    { id: RegionCap.SPARSE_MMAP, version: 1, body: m.encodeSparseMmapBody([{ offset: 0n, size: 0x1000n }]) },
    { id: RegionCap.TYPE, version: 1, body: m.encodeTypeCapBody(0x80008086, 2) },
    { id: 42, version: 3, body: Uint8Array.of(1, 2, 3) }, // odd size: padded to 8
  ];

  it('links caps after the struct, each 8-byte aligned, last next = 0', () => {
    const { payload, complete } = m.encodeRegionInfoReply(info, caps, 4096);
    expect(complete).toBe(true);
    const b = Buffer.from(payload);
    const ri = m.decodeRegionInfo(payload.subarray(0, 32));
    expect(ri).toEqual({ argsz: payload.length, flags: info.flags | RegionFlag.CAPS, index: 9, capOffset: 32, size: 0x10000n, offset: 0x1000n });
    const seen: Array<[number, number, number]> = [];
    for (let at = ri.capOffset; at; at = b.readUInt32LE(at + 4)) {
      expect(at % 8).toBe(0);
      seen.push([at, b.readUInt16LE(at), b.readUInt16LE(at + 2)]);
    }
    expect(seen).toEqual([[32, 1, 1], [32 + 32, 2, 1], [32 + 32 + 16, 42, 3]]);
    expect(payload.length).toBe(32 + 32 + 16 + 16);
    expect(b.readUInt32LE(64 + 8)).toBe(0x80008086);
  });

  it('truncates to the bare struct when argsz is too small, keeping the needed argsz', () => {
    const { payload, complete } = m.encodeRegionInfoReply(info, caps, 40);
    expect(complete).toBe(false);
    expect(m.decodeRegionInfo(payload)).toMatchObject({ argsz: 96, capOffset: 0, flags: info.flags | RegionFlag.CAPS });
  });

  it('without caps, the CAPS flag is cleared and cap_offset is 0', () => {
    const { payload } = m.encodeRegionInfoReply({ ...info, flags: info.flags | RegionFlag.CAPS }, [], 32);
    expect(m.decodeRegionInfo(payload)).toMatchObject({ argsz: 32, capOffset: 0, flags: info.flags });
  });
});

describe('framing and decoders', () => {
  it('reply/errorReply keep msg_id and command; an error reply is the header only', () => {
    const req = { msgId: 0xfffe, command: 5, size: 48, flags: 0, error: 0 };
    expect(m.decodeHeader(m.reply(req, Uint8Array.of(1, 2)))).toEqual({ msgId: 0xfffe, command: 5, size: 18, flags: 1, error: 0 });
    expect(m.decodeHeader(m.errorReply(req, 22))).toEqual({ msgId: 0xfffe, command: 5, size: 16, flags: 0x21, error: 22 });
    expect(m.decodeHeader(m.command(3, 9, undefined, true)).flags).toBe(0x10);
  });

  it('VERSION round trip, with and without JSON', () => {
    expect(m.decodeVersion(m.encodeVersion({ major: 0, minor: 2, json: '{"a":1}' }))).toEqual({ major: 0, minor: 2, json: '{"a":1}' });
    expect(m.decodeVersion(m.encodeVersion({ major: 1, minor: 0, json: null }))).toEqual({ major: 1, minor: 0, json: null });
  });

  it.each([
    ['header', () => m.decodeHeader(new Uint8Array(15))],
    ['DMA_MAP', () => m.decodeDmaMap(new Uint8Array(31))],
    ['DMA_UNMAP', () => m.decodeDmaUnmap(new Uint8Array(25), false)],
    ['REGION_READ', () => m.decodeRegionRead(new Uint8Array(17))],
    ['REGION_WRITE', () => m.decodeRegionWrite(m.encodeRegionAccess({ offset: 0n, region: 0, count: 4, data: new Uint8Array(3) }))],
    ['WRITE_MULTI count > 8', () => {
      const p = new Uint8Array(32);
      const v = new DataView(p.buffer);
      v.setBigUint64(0, 1n, true);
      v.setUint32(8 + 12, 9, true);
      return m.decodeWriteMulti(p);
    }],
    ['IRQ_SET', () => m.decodeIrqSet(new Uint8Array(19))],
    ['MIG_DATA', () => m.decodeMigData(new Uint8Array(7))],
  ])('%s: a wrong shape is a VfmedError with EINVAL', (_w, fn) => {
    let e: unknown;
    try {
      fn();
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(VfmedError);
    expect((e as VfmedError).errno).toBe(22);
  });

  it('MIG_DATA round trip (for the migration layer)', () => {
    const d = { argsz: 12, size: 4, data: Uint8Array.of(9, 8, 7, 6) };
    expect(m.decodeMigData(m.encodeMigData(d))).toEqual(d);
  });
});
