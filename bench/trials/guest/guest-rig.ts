/**
 * Rig of the benchmark trials that drive real guest runners: the daemon embedded in the
 * trial process (emulated NIC with its device thread, PF driver, one vfio-user socket per
 * VF, PF mailbox service on its event fd; no control socket) on a fresh run directory.
 * The guest runners are separate vfmed-guest processes (mediator/guest/guest-process.ts):
 * what they measure is what a VMM and its guest would see.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { resolveConfig } from '../../../mediator/daemon/config.js';
import { Daemon } from '../../../mediator/daemon/daemon.js';
import type { BoundVf } from '../../../mediator/daemon/vf-set.js';

export interface GuestRig {
  daemon: Daemon;
  vfs: readonly BoundVf[];
  close(): Promise<void>;
}

export async function openGuestRig(opts: { vfs: number; pollMode?: 'adaptive' | 'busy' }): Promise<GuestRig> {
  const runDir = mkdtempSync(join(tmpdir(), 'vfmed-bench-'));
  const config = resolveConfig({ runDir, vfs: opts.vfs, nic: { maxVfs: opts.vfs, pollMode: opts.pollMode ?? 'adaptive' } });
  let daemon: Daemon;
  try {
    daemon = await Daemon.start({ config, log: pino({ level: 'silent' }), noControl: true });
  } catch (e) {
    rmSync(runDir, { recursive: true, force: true });
    throw e;
  }
  return {
    daemon,
    vfs: daemon.vfs.bound,
    async close() {
      await daemon.stop();
      rmSync(runDir, { recursive: true, force: true });
    },
  };
}
