// Argument checks of the Nic glue (native/addon/nic_wrap.cc, args.cc): every wrong JS type
// is a TypeError (ERR_INVALID_ARG_TYPE), every value the C parameter cannot hold is a
// RangeError (ERR_OUT_OF_RANGE), and the message names the method and the parameter. None
// of these calls reaches the device, so a bad call cannot change its state.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAddon, type NativeNic } from '../../mediator/native/addon.js';

const addon = loadAddon();
let nic: NativeNic;
beforeAll(() => {
  nic = new addon.Nic({ maxVfs: 2 });
});
afterAll(() => nic.destroy());

type Call = (n: NativeNic) => unknown;
// [what, call, error class, message fragment]
const cases: [string, Call, typeof TypeError | typeof RangeError, RegExp][] = [
  ['vf as string', (n) => n.vfRead32('0' as unknown as number, 0), TypeError, /Nic\.vfRead32: "vf" must be a number \(got string\)/],
  ['vf missing', (n) => (n.vfRead32 as unknown as () => number)(), TypeError, /"vf" must be a number \(got undefined\)/],
  ['vf negative', (n) => n.vfRead32(-1, 0), RangeError, /"vf" must be in \[0, 4294967295\]/],
  ['vf fractional', (n) => n.vfRead32(0.5, 0), RangeError, /"vf" must be an integer \(got 0\.5\)/],
  ['vf NaN', (n) => n.vfRead32(NaN, 0), RangeError, /"vf" must be an integer/],
  ['vf >= maxVfs', (n) => n.vfRead32(2, 0), RangeError, /"vf" must be < maxVfs \(2\), got 2/],
  ['vf 2^32', (n) => n.vfBarFd(2 ** 32), RangeError, /"vf" must be in/],
  ['off as bigint', (n) => n.vfRead32(0, 8n as unknown as number), TypeError, /"off" must be a number \(got bigint\)/],
  ['reg size 3', (n) => n.vfRegRead(0, 0, 3 as 4), RangeError, /"size" must be 1, 2, 4 or 8, got 3/],
  ['reg size 16', (n) => n.vfRegWrite(0, 0, 16 as 8, 0n), RangeError, /"size" must be 1, 2, 4 or 8/],
  ['reg value as number', (n) => n.vfRegWrite(0, 0, 4, 1 as unknown as bigint), TypeError, /"val" must be a bigint \(got number\)/],
  ['reg value too wide', (n) => n.vfRegWrite(0, 0, 2, 0x10000n), RangeError, /"val" does not fit in 2 byte\(s\)/],
  ['reg value negative', (n) => n.vfRegWrite(0, 0, 8, -1n), RangeError, /"val" must be a bigint in \[0, 2\^64\)/],
  ['reg value 2^64', (n) => n.vfRegWrite(0, 0, 8, 1n << 64n), RangeError, /"val" must be a bigint in \[0, 2\^64\)/],
  ['write32 value 2^32', (n) => n.vfWrite32(0, 0, 2 ** 32), RangeError, /"val" must be in \[-2147483648, 4294967295\]/],
  ['write32 value string', (n) => n.vfWrite32(0, 0, '1' as unknown as number), TypeError, /"val" must be a number/],
  ['iova as number', (n) => n.vfDmaMap(0, 0 as unknown as bigint, 4096n, 3, 0n, 3), TypeError, /Nic\.vfDmaMap: "iova" must be a bigint \(got number\)/],
  ['len negative', (n) => n.vfDmaMap(0, 0n, -4096n, 3, 0n, 3), RangeError, /"len" must be a bigint in \[0, 2\^64\)/],
  ['fd negative', (n) => n.vfDmaMap(0, 0n, 4096n, -1, 0n, 3), RangeError, /"fd" must be in \[0, 2147483647\]/],
  ['fd null', (n) => n.pfDmaMap(0n, 4096n, null as unknown as number, 0n), TypeError, /Nic\.pfDmaMap: "fd" must be a number \(got null\)/],
  ['prot as string', (n) => n.vfDmaMap(0, 0n, 4096n, 3, 0n, 'rw' as unknown as number), TypeError, /"prot" must be a number/],
  ['irq fd -2', (n) => n.vfSetIrqFd(0, 0, -2), RangeError, /"fd" must be in \[-1, 2147483647\]/],
  ['pf event fd object', (n) => n.setPfEventFd({} as unknown as number), TypeError, /Nic\.setPfEventFd: "fd" must be a number \(got object\)/],
  ['inject a string', (n) => n.uplinkInject('frame' as unknown as Uint8Array), TypeError, /"frame" must be a Uint8Array or Buffer \(got string\)/],
  ['inject a Uint16Array', (n) => n.uplinkInject(new Uint16Array(32) as unknown as Uint8Array), TypeError, /"frame" must be a Uint8Array or Buffer \(got TypedArray\)/],
  ['truth clear as number', (n) => n.truthRead(0, 0n, 4096n, 1 as unknown as boolean), TypeError, /"clear" must be a boolean/],
  ['truth len absurd', (n) => n.truthRead(0, 0n, 1n << 60n, false), RangeError, /"len" is too large for a bitmap/],
];

describe('Nic argument checks', () => {
  it.each(cases)('%s', (_what, call, cls, msg) => {
    let err: unknown;
    try {
      call(nic);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(cls);
    expect((err as Error).message).toMatch(msg);
    expect((err as { code: string }).code).toBe(cls === TypeError ? 'ERR_INVALID_ARG_TYPE' : 'ERR_OUT_OF_RANGE');
  });

  it('accepts the int32 view of a register value (JS bit operations are signed)', () => {
    // Both spellings of the same 32 bits pass the glue and reach the device, which refuses
    // them only because no VF is enabled yet (ENODEV), never with a RangeError.
    for (const v of [0xffffffff | 0, 0xffffffff, -(2 ** 31)]) {
      expect(() => nic.vfWrite32(0, 0x1528, v)).toThrow(expect.objectContaining({ code: 'ENODEV', syscall: 'vfmed_vf_reg_write' }));
    }
  });
});

const cfgCases: [string, unknown, typeof TypeError | typeof RangeError, RegExp][] = [
  ['no config', undefined, TypeError, /new Nic: "cfg" must be an object \(got undefined\)/],
  ['config array', [2], TypeError, /"cfg" must be an object \(got Array\)/],
  ['maxVfs missing', {}, TypeError, /"cfg\.maxVfs" must be a number \(got undefined\)/],
  ['maxVfs string', { maxVfs: '2' }, TypeError, /"cfg\.maxVfs" must be a number \(got string\)/],
  ['maxVfs negative', { maxVfs: -1 }, RangeError, /"cfg\.maxVfs" must be in/],
  ['rxFifoBytes fractional', { maxVfs: 1, rxFifoBytes: 1.5 }, RangeError, /"cfg\.rxFifoBytes" must be an integer/],
  ['shmDir number', { maxVfs: 1, shmDir: 1 }, TypeError, /"cfg\.shmDir" must be a string/],
  ['shmPrefix with NUL', { maxVfs: 1, shmDir: '/tmp', shmPrefix: 'a\0b' }, TypeError, /"cfg\.shmPrefix" must not contain NUL/],
  ['baseMac 5 bytes', { maxVfs: 1, baseMac: new Uint8Array(5) }, RangeError, /"cfg\.baseMac" must be 6 bytes, got 5/],
  ['baseMac array', { maxVfs: 1, baseMac: [2, 0, 0, 0, 0, 0] }, TypeError, /"cfg\.baseMac" must be a Uint8Array or Buffer \(got Array\)/],
  ['pollMode unknown', { maxVfs: 1, pollMode: 'spin' }, RangeError, /"cfg\.pollMode" must be 'adaptive' or 'busy', got 'spin'/],
  ['noHeadWriteBack number', { maxVfs: 1, noHeadWriteBack: 1 }, TypeError, /"cfg\.noHeadWriteBack" must be a boolean/],
];

describe('new Nic(cfg) checks', () => {
  it.each(cfgCases)('%s', (_what, cfg, cls, msg) => {
    expect(() => new addon.Nic(cfg as never)).toThrow(cls);
    expect(() => new addon.Nic(cfg as never)).toThrow(msg);
  });

  it('refuses to be called without new', () => {
    expect(() => (addon.Nic as unknown as (c: unknown) => unknown)({ maxVfs: 1 })).toThrow(TypeError);
  });
});
