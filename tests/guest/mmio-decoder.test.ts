/**
 * The MMIO trap path of vfmed-guest on this very binary (`vfmed-guest selftest-decoder`):
 * ~500 hand-encoded MOV forms (every GPR as source/destination, AH..BH, REX rules,
 * ModRM/SIB/disp8/disp32/RIP-relative/moffs/addr32, FS/GS, RSP base) executed twice each
 * against PROT_NONE pages with an in-process fake device, compiler-generated volatile
 * accesses, and byte-string decoder checks; plus the two failure paths.
 */
import { describe, expect, it } from 'vitest';

import { jsonLines, runGuest } from './guest-harness.js';

describe('vfmed-guest selftest-decoder', () => {
  it('emulates every decoded form with the right value, register and RIP advance', async () => {
    const r = await runGuest(['selftest-decoder']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [line] = jsonLines(r.stdout);
    expect(line).toMatchObject({ type: 'selftest', name: 'decoder', failures: 0, ok: true });
    // The table is exhaustive over registers and forms; make sure it really ran.
    expect(line!['asm_cases'] as number).toBeGreaterThanOrEqual(500);
    expect(line!['asm_runs']).toBe((line!['asm_cases'] as number) * 2);
    expect(line!['compiled_checks'] as number).toBeGreaterThanOrEqual(40);
    expect(line!['decoder_checks'] as number).toBeGreaterThanOrEqual(18);
    // One trap per hand-encoded run plus one per compiled access.
    expect(line!['traps'] as number).toBeGreaterThan(line!['asm_runs'] as number);
  });

  it('aborts on an instruction it cannot decode, naming its bytes', async () => {
    const r = await runGuest(['selftest-decoder', '--undecodable']);
    expect(r.signal).toBe('SIGABRT');
    // addl $1, (%rdi) = 83 07 01, on BAR offset 0x3818.
    expect(r.stderr).toMatch(/cannot decode the faulting instruction at rip 0x[0-9a-f]+ accessing window0\+0x3818; instruction bytes: 83 07 01/);
  });

  it('lets a fault outside every trap window crash as a normal SIGSEGV', async () => {
    const r = await runGuest(['selftest-decoder', '--wild']);
    expect(r.signal).toBe('SIGSEGV');
    expect(r.stderr).not.toMatch(/MMIO trap/);
  });

  it('rejects an unknown self-test option', async () => {
    const r = await runGuest(['selftest-decoder', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option '--bogus'/);
  });
});
