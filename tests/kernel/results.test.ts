// The kernel test's result-channel parser and dmesg verdict (tests/kernel/harness/results.ts),
// without booting anything: the grammar, partial lines, and that real kernel splats are
// caught while the expected taint messages of an unsigned out-of-tree module are not.
import { describe, expect, it } from 'vitest';
import { badDmesgLines, dataValue, parseResults, stepResult } from './harness/results.js';

describe('result channel parser', () => {
  it('reads booted, results, data, dmesg and end; strips CR; ignores noise', () => {
    const r = parseResults([
      'VFMED-BOOTED 3.42\r',
      'garbage the guest never writes',
      'VFMED-RESULT pf-load ok vfpf bound 0000:00:10.0\r',
      'VFMED-DATA pf-info max-vfs 4',
      'VFMED-DATA pf-mac mac 0=02:4b:54:00:00:10',
      'VFMED-RESULT pf-errors fail rc=1 SET_MAC -> EIO WRONG',
      'VFMED-DMESG [    3.1] vfpf 0000:00:10.0: bound',
      'VFMED-END 1 1',
      '',
    ].join('\n'));
    expect(r.bootedUptime).toBe(3.42);
    expect(r.steps).toEqual([
      { step: 'pf-load', ok: true, detail: 'vfpf bound 0000:00:10.0' },
      { step: 'pf-errors', ok: false, detail: 'rc=1 SET_MAC -> EIO WRONG' },
    ]);
    expect(dataValue(r, 'pf-info', 'max-vfs')).toBe('4');
    expect(dataValue(r, 'pf-mac', 'mac')).toBe('0=02:4b:54:00:00:10');
    expect(r.dmesg).toEqual(['[    3.1] vfpf 0000:00:10.0: bound']);
    expect(r.end).toEqual({ ok: 1, fail: 1 });
    expect(stepResult(r, 'pf-load')?.ok).toBe(true);
    expect(stepResult(r, 'nope')).toBeUndefined();
    expect(() => dataValue(r, 'pf-info', 'nope')).toThrow(/no nope for step pf-info/);
  });

  it('does not take a line the guest is still writing', () => {
    const r = parseResults('VFMED-RESULT a ok done\nVFMED-RESULT b o');
    expect(r.steps.map((s) => s.step)).toEqual(['a']);
    expect(r.end).toBeNull();
  });
});

describe('dmesg verdict', () => {
  const expected = [
    '[    3.88] vfpf: loading out-of-tree module taints kernel.',
    '[    3.89] vfpf: module verification failed: signature and/or required key missing - tainting kernel',
    '[    6.09] vfio-pci: probe of 0000:00:15.0 failed with error -22',
    '[    0.21] ** If you see this message and you are not debugging    **',
    '[    2.87] uio_pci_generic 0000:00:11.0: No IRQ assigned to device: no support for interrupts?',
  ];

  it('accepts what a clean run prints', () => {
    expect(badDmesgLines(expected)).toEqual([]);
  });

  it.each([
    '[   12.3] WARNING: CPU: 0 PID: 187 at drivers/pci/pci.c:2195 pci_disable_device+0x9a/0xb0',
    '[   12.3] Call Trace:',
    '[   12.4] BUG: unable to handle page fault for address: ffffa0c0000f1000',
    '[   12.4] kernel BUG at mm/slub.c:400!',
    '[   12.5] BUG kmalloc-64 (Tainted: G           OE     ): Poison overwritten',
    '[   12.6] BUG kmalloc-128 (Tainted: G           OE     ): Redzone overwritten',
    '[   12.7] general protection fault, probably for non-canonical address 0xdead000000000100',
    '[   12.8] list_del corruption. prev->next should be ffff..., but was ffff...',
    '[   99.0] INFO: task rmmod:211 blocked for more than 120 seconds.',
    '[   12.9] refcount_t: underflow; use-after-free.',
  ])('flags %s', (line) => {
    const bad = badDmesgLines([...expected, line]);
    expect(bad.length).toBeGreaterThan(0);
    expect(bad).toContain(line);
  });
});
