// errno naming: aliased numbers get the conventional name (EAGAIN, not EWOULDBLOCK).
import { describe, expect, it } from 'vitest';
import { VfmedSystemError, checkRc, errnoName, errnoValue } from '../mediator/errors.js';

describe('errno names', () => {
  it.each([[11, 'EAGAIN'], [95, 'EOPNOTSUPP'], [35, 'EDEADLK'], [22, 'EINVAL'], [-74, 'EBADMSG'], [4242, 'E4242']])('%i is %s', (n, name) => {
    expect(errnoName(n)).toBe(name);
  });
  it('checkRc turns -errno into a VfmedSystemError and passes non-negative values', () => {
    expect(checkRc('vfpf_x', 5)).toBe(5);
    expect(() => checkRc('vfpf_x', -errnoValue('ENODEV'), 'vf 9')).toThrow(expect.objectContaining({ code: 'ENODEV', syscall: 'vfpf_x', errno: 19 }));
    expect(new VfmedSystemError('read', 11).message).toBe('read: EAGAIN');
    expect(() => errnoValue('ENOPE')).toThrow(RangeError);
  });
});
