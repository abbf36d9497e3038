// The migration-related options outside `vfmed migrate`: the daemon's default dirty
// tracker (`vfmed start --dirty-tracking`, config key migration.dirtyTracking; flags win
// over the file, a bad value in the file is refused) and the guest runner's migration
// options passing through `vfmed guest` untouched.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { splitGuestArgs } from '../../mediator/cli/guest-command.js';
import { vfmed } from './run-vfmed.js';

const dir = mkdtempSync(join(tmpdir(), 'vfmed-migopts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('vfmed start: the default dirty tracker', () => {
  const printed = (args: string[]) => {
    const r = vfmed(['start', '--run-dir', dir, '--print-config', ...args]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return (JSON.parse(r.stdout) as { migration: { dirtyTracking: string } }).migration.dirtyTracking;
  };

  it('tail-trap by default; the config file, then the flag, override it', () => {
    expect(printed([])).toBe('tail-trap');
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ migration: { dirtyTracking: 'device-log' } }));
    expect(printed(['--config', file])).toBe('device-log');
    expect(printed(['--config', file, '--dirty-tracking', 'all'])).toBe('all');
  });

  it('a bad value in the config file is a one-line usage error', () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ migration: { dirtyTracking: 'pml' } }));
    const r = vfmed(['start', '--run-dir', dir, '--print-config', '--config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/migration\/dirtyTracking|dirtyTracking/);
  });
});

describe('vfmed guest: the runner\'s migration options pass through', () => {
  it('--monitor, --incoming and --ram-fill reach vfmed-guest unchanged, beside --vf', () => {
    const args = ['rxsink', '--vf', '1', '--monitor', '/run/g.mon', '--incoming', 'tcp:0.0.0.0:4444', '--ram-fill=random', '--ram', '268435456'];
    expect(splitGuestArgs(args)).toEqual({
      vf: 1, addr: {},
      rest: ['rxsink', '--monitor', '/run/g.mon', '--incoming', 'tcp:0.0.0.0:4444', '--ram-fill=random', '--ram', '268435456'],
    });
  });
});
