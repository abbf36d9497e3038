// Bad admin commands and bad VF state blobs, through the PF driver (libvfpf) and its raw
// admin path: nonexistent VFs, unknown opcodes, saving a running VF, short save buffers,
// truncated / corrupted / incompatible blobs. Each gets a clear errno, the target VF is
// left untouched (it still carries traffic afterwards), and the process survives.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HwRig, vfMac, type Guest } from '../helpers/rig.js';
import { collectN, waitUntil } from '../helpers/wait.js';
import { expectErrno } from '../helpers/expect-errno.js';
import { appendSection, HDR_LEN, OFF, reseal, sections, xorshift } from '../helpers/state-blob.js';
import { buildFrame, mac } from '../../mediator/demo/frames.js';

const AQC = {
  GET_INFO: 0x0001, VF_ENABLE: 0x0010, VF_GET_CONFIG: 0x0016, VF_QUIESCE: 0x0020, VF_RESUME: 0x0021,
  VF_STATE_SIZE: 0x0022, VF_SAVE: 0x0023, VF_LOAD: 0x0024, VF_STATS: 0x0040,
} as const;

describe('admin command errors', () => {
  let rig: HwRig;
  beforeEach(() => {
    rig = new HwRig({ maxVfs: 4, numVfs: 2 });
  });
  afterEach(() => rig.close());

  it('commands for a VF that does not exist or is not enabled', () => {
    const pf = rig.pfApi;
    for (const vf of [2, 3, 7, 8, 200]) {
      expectErrno(() => pf.vfQuiesce(vf), ['ENODEV', 'EINVAL'], `quiesce vf ${vf}`);
      expectErrno(() => pf.vfStats(vf), ['ENODEV', 'EINVAL'], `stats vf ${vf}`);
      expectErrno(() => pf.vfSave(vf), ['ENODEV', 'EINVAL'], `save vf ${vf}`);
    }
    // The device's own checks, bypassing the driver's.
    for (const vf of [2, 3, 8, 0xffff]) {
      for (const op of [AQC.VF_QUIESCE, AQC.VF_STATS, AQC.VF_GET_CONFIG, AQC.VF_STATE_SIZE]) {
        expectErrno(() => pf.adminCmd(op, vf, 0, 0, new Uint8Array(256)), ['ENODEV', 'EINVAL'], `raw op 0x${op.toString(16)} vf ${vf}`);
      }
    }
    expectErrno(() => pf.adminCmd(0x7777, 0, 0, 0), ['EOPNOTSUPP', 'EINVAL'], 'unknown opcode');
    expectErrno(() => pf.sriovEnable(9), 'EINVAL', 'more VFs than the device has');
    // Still fully working.
    expect(pf.vfStats(0).rxPackets).toBe(0n);
  });

  it('save needs a quiesced VF and a large enough buffer', () => {
    const pf = rig.pfApi;
    expectErrno(() => pf.vfSave(0), 'EBUSY', 'save of a running VF');
    pf.vfQuiesce(0);
    const size = pf.vfStateSize(0);
    expect(size).toBeGreaterThan(HDR_LEN);
    expectErrno(() => pf.adminCmd(AQC.VF_SAVE, 0, 0, 0, new Uint8Array(HDR_LEN)), 'ENOSPC', 'save into a short buffer');
    expect(pf.vfSave(0).length).toBeLessThanOrEqual(size);
    pf.vfResume(0);
  });
});

describe('VF state blob validation', () => {
  let rig: HwRig;
  let a: Guest;
  let b: Guest;
  let blob: Buffer;
  beforeEach(() => {
    rig = new HwRig({ maxVfs: 4, numVfs: 3 });
    a = rig.guest(0, { pmd: { rxRingSize: 32 } });
    b = rig.guest(1, { pmd: { rxRingSize: 32 } });
    a.pmd.init();
    b.pmd.init();
    // Some state worth saving: frames in B's ring and FIFO.
    a.pmd.tx(Array.from({ length: 40 }, (_, seq) => buildFrame({ dst: vfMac(1), src: vfMac(0), stream: 1, seq, len: 100 })));
    waitUntil(() => a.pmd.txOutstanding() === 0, 'A TX done');
    rig.pfApi.vfQuiesce(1);
    blob = rig.pfApi.vfSave(1);
    rig.pfApi.vfResume(1);
  });
  afterEach(() => rig.close());

  /** VF 2 is the load target: enabled, never used, its MAC tells us it was not touched. */
  function expectUntouched(): void {
    expect(Buffer.from(rig.info(2).mac)).toEqual(Buffer.from(vfMac(2)));
    expect(rig.info(2).fifoFrames).toBe(0);
  }

  const cases: Array<[string, (b: Buffer) => Buffer, string[]]> = [
    ['empty', () => Buffer.alloc(0), ['EINVAL', 'EBADMSG']],
    ['shorter than the header', (x) => x.subarray(0, HDR_LEN - 1), ['EBADMSG']],
    ['header only', (x) => reseal(Buffer.from(x.subarray(0, HDR_LEN))), ['EBADMSG']],
    ['truncated by one byte', (x) => x.subarray(0, x.length - 1), ['EBADMSG']],
    ['truncated in the middle', (x) => x.subarray(0, x.length >> 1), ['EBADMSG']],
    ['bad magic', (x) => { const y = Buffer.from(x); y[0] = y[0]! ^ 0xff; return reseal(y); }, ['EBADMSG']],
    ['one payload bit flipped (CRC)', (x) => { const y = Buffer.from(x); y[y.length - 9] = y[y.length - 9]! ^ 0x10; return y; }, ['EBADMSG']],
    ['crc field wrong', (x) => { const y = Buffer.from(x); y.writeUInt32LE(y.readUInt32LE(OFF.crc32) ^ 1, OFF.crc32); return y; }, ['EBADMSG']],
    ['total_len larger than the buffer', (x) => { const y = Buffer.from(x); y.writeUInt32LE(y.length + 64, OFF.totalLen); return reseal(y); }, ['EBADMSG']],
    ['total_len smaller than the buffer', (x) => { const y = Buffer.from(x); y.writeUInt32LE(y.length - 8, OFF.totalLen); return reseal(y); }, ['EBADMSG']],
    ['section count too high', (x) => { const y = Buffer.from(x); y.writeUInt32LE(y.readUInt32LE(OFF.sectionCount) + 1, OFF.sectionCount); return reseal(y); }, ['EBADMSG']],
    ['section length past the end', (x) => { const y = Buffer.from(x); const s = sections(y)[0]!; y.writeUInt32LE(0x7fffffff, s.offset + 4); return reseal(y); }, ['EBADMSG']],
    ['newer major version', (x) => { const y = Buffer.from(x); y.writeUInt16LE(y.readUInt16LE(OFF.major) + 1, OFF.major); return reseal(y); }, ['EPROTO']],
    ['other device model', (x) => { const y = Buffer.from(x); y.writeUInt32LE(0x12345678, OFF.modelId); return reseal(y); }, ['EPROTO']],
    ['unknown mandatory section', (x) => appendSection(x, 0x0777, 1, Buffer.alloc(12, 0xab)), ['EPROTO']],
    ['known section, unknown version', (x) => { const y = Buffer.from(x); const s = sections(y)[0]!; y.writeUInt16LE(0x7fff, s.offset + 2); return reseal(y); }, ['EPROTO']],
  ];

  for (const [name, mutate, codes] of cases) {
    it(`refuses a blob: ${name}`, () => {
      const bad = mutate(blob);
      rig.pfApi.vfQuiesce(2);
      expectErrno(() => rig.pfApi.vfLoad(2, bad), codes, name);
      expectUntouched();
      // The same VF still takes the good blob afterwards.
      rig.pfApi.vfLoad(2, blob);
      expect(Buffer.from(rig.info(2).mac)).toEqual(Buffer.from(vfMac(1)));
      expect(rig.info(2).fifoFrames).toBe(rig.info(1).fifoFrames);
    });
  }

  it('accepts an unknown OPTIONAL section (skipped)', () => {
    const withOpt = appendSection(blob, 0x8000 | 0x0777, 1, Buffer.alloc(20, 0xcd));
    rig.pfApi.vfQuiesce(2);
    rig.pfApi.vfLoad(2, withOpt);
    expect(Buffer.from(rig.info(2).mac)).toEqual(Buffer.from(vfMac(1)));
  });

  it('refuses to load into a running VF', () => {
    expectErrno(() => rig.pfApi.vfLoad(0, blob), 'EBUSY', 'load into running VF 0');
    // VF 0 keeps working.
    a.pmd.tx([buildFrame({ dst: vfMac(1), src: vfMac(0), stream: 2, seq: 0, len: 64 })]);
    collectN(41, () => b.pmd.rx(), 'frames on VF1');
  });

  it('survives 300 random resealed mutations; nothing outside the DMA maps is touched', () => {
    // VF 2 gets a copy of VF 1's guest RAM at the same IOVAs (plus canaries beyond), so a
    // mutated blob that loads runs real DMA against real rings when VF 2 is resumed.
    const c = rig.guest(2, { iovaBase: b.mem.iovaBase, dmaLen: b.mem.dmaLen });
    c.mem.u8.set(b.mem.u8.subarray(0, b.mem.dmaLen));
    const bcast = buildFrame({ dst: Uint8Array.of(255, 255, 255, 255, 255, 255), src: mac('02:99:00:00:00:06'), stream: 5, seq: 0, len: 200 });
    const rnd = xorshift(0x5eed);
    rig.pfApi.vfQuiesce(2);
    const seen = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const y = Buffer.from(blob);
      const flips = 1 + (rnd() % 4);
      for (let k = 0; k < flips; k++) {
        const at = HDR_LEN + (rnd() % (y.length - HDR_LEN));
        y[at] = y[at]! ^ (1 << (rnd() % 8));
      }
      try {
        rig.pfApi.vfLoad(2, reseal(y));
        seen.set('ok', (seen.get('ok') ?? 0) + 1);
      } catch (e) {
        const code = (e as { code?: string }).code ?? String(e);
        expect(['EBADMSG', 'EPROTO', 'EINVAL', 'ERANGE']).toContain(code);
        seen.set(code, (seen.get(code) ?? 0) + 1);
        continue;
      }
      // Run what was loaded: a broadcast reaches every VF that accepts it.
      rig.pfApi.vfResume(2);
      try {
        rig.nic.uplinkInject(bcast);
      } catch (e) {
        expect((e as { code?: string }).code).toBe('ENOSPC'); // every FIFO full: counted drop
      }
      rig.pfApi.vfQuiesce(2);
    }
    expect(seen.get('EBADMSG') ?? 0).toBeGreaterThan(0);
    expect(c.canaryDamage()).toBe(-1);
    expect(rig.nic.truthRead(2, b.mem.iovaBase + BigInt(b.mem.dmaLen), BigInt(c.canaryLen), false).every((x) => x === 0)).toBe(true);
    // The device is alive and the original VFs carry traffic.
    rig.pfApi.vfLoad(2, blob);
    rig.pfApi.vfResume(2);
    const probe = buildFrame({ dst: vfMac(0), src: vfMac(1), stream: 3, seq: 1, len: 64 });
    b.pmd.tx([probe]);
    const got: Buffer[] = [];
    waitUntil(() => {
      got.push(...a.pmd.rx().map((f) => f.data));
      return got.some((f) => f.equals(probe));
    }, 'a frame on VF0 after the fuzzing');
    expect(a.canaryDamage()).toBe(-1);
    expect(b.canaryDamage()).toBe(-1);
  });
});
