/**
 * `vfmed-guest selftest-units`: the pure parts of the runner with malformed and edge-case
 * input that a well-behaved server never sends — GET_REGION_INFO validation (capability
 * loops, areas outside the region, bad versions), VERSION JSON capabilities (types,
 * overflow, nesting), sequence accounting at the window edges, the frame tag, and the
 * ARP/ICMP responder's validation.
 */
import { describe, expect, it } from 'vitest';

import { jsonLines, runGuest } from './guest-harness.js';

describe('vfmed-guest selftest-units', () => {
  it('passes every table-driven check', async () => {
    const r = await runGuest(['selftest-units']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [line] = jsonLines(r.stdout);
    expect(line).toMatchObject({ type: 'selftest', name: 'units', failures: 0, ok: true });
    expect(line!['checks'] as number).toBeGreaterThanOrEqual(60);
  });
});
