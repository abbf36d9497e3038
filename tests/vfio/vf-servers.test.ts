// startVfServers: one socket per VF of a NIC, each with its own device; a VF that cannot be
// served is reported without stopping the others.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVfServers } from '../../mediator/vfio/vf-servers.js';
import { TestClient } from './helpers/client.js';
import { startRig, type VfioRig } from './helpers/rig.js';
import { CMD, REGION, regionAccessPayload } from './helpers/wire.js';

let rig: VfioRig;
let dir: string;
beforeAll(() => {
  rig = startRig(2);
  dir = mkdtempSync(join(tmpdir(), 'vfmed-vfs-'));
});
afterAll(async () => {
  await rig.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('startVfServers', () => {
  it('serves each VF on <dir>/vf<n>.sock; a bad VF index is reported, the others still serve', async () => {
    const s = startVfServers({ nic: rig.nic, dir, vfs: [0, 1, 5], flr: (vf) => rig.pf.vfFlr(vf) });
    expect([...s.servers.keys()]).toEqual([0, 1]);
    expect([...s.failed.keys()]).toEqual([5]);
    expect(s.failed.get(5)).toBeInstanceOf(RangeError);
    for (const vf of [0, 1]) {
      const c = await TestClient.connect(join(dir, `vf${vf}.sock`));
      const r = await c.request(CMD.REGION_READ, regionAccessPayload(REGION.CONFIG, 0xa4n, 4));
      expect(r.payload.readUInt32LE(16) & (1 << 28)).toBe(1 << 28); // FLR wired through
      await c.close();
    }
    await s.close();
    expect(existsSync(join(dir, 'vf0.sock')) || existsSync(join(dir, 'vf1.sock'))).toBe(false);
  });
});
