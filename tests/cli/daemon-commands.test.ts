// The daemon's commands as a user meets them, each a separate `vfmed` process: start
// (config file, flags, --print-config, refusals), bind/unbind of emulated VFs through the
// control socket, status, replay and guest errors, stop, --background, and the control
// socket's own robustness. Every failure is one line on stderr with a non-zero status.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProc } from '../e2e/helpers/daemon-proc.js';
import { vfmedAsync } from './run-vfmed.js';

type R = { code: number | null; stdout: string; stderr: string };

function oneLineError(r: R, code: number, msg: RegExp): void {
  expect(r.code).toBe(code);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(msg);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

const scratch = mkdtempSync(join(tmpdir(), 'vfmed-cli-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('vfmed start: configuration', () => {
  it('--print-config merges defaults, the file and the flags; file paths are relative to the file', async () => {
    const dir = join(scratch, 'cfg');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'vfmed.json');
    writeFileSync(file, JSON.stringify({
      runDir: 'run', vfs: 2, nic: { maxVfs: 4 }, macs: { 1: '02:00:00:00:00:42' },
      uplink: { capture: { file: 'out.pcap' }, replay: { file: 'in.pcap', rate: 5000, loop: 0 } },
    }));
    const r = await vfmedAsync(['start', '--config', file, '--vfs', '3', '--replay-rate', 'line', '--print-config']);
    expect(r.stderr).toBe('');
    const c = JSON.parse(r.stdout);
    expect(c).toMatchObject({
      runDir: join(dir, 'run'), control: join(dir, 'run', 'control.sock'), vfs: 3,
      nic: { maxVfs: 4, pollMode: 'adaptive' }, macs: { 1: '02:00:00:00:00:42' },
      uplink: {
        capture: { file: join(dir, 'out.pcap'), snaplen: 65535 },
        replay: { file: join(dir, 'in.pcap'), rate: 'line', loop: 0, start: 'rx-ready' }, tap: null,
      },
    });
  });

  it('--print-config-schema prints the JSON schema of the file', async () => {
    const r = await vfmedAsync(['start', '--print-config-schema']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ title: 'vfmed daemon configuration', additionalProperties: false });
  });

  it.each([
    ['an unknown key', { vfs: 1, bogus: 1 }, /VFMED_ERR_CONFIG: .*\.json: \/ must NOT have additional properties 'bogus'$/],
    ['a wrong type', { vfs: 'two' }, /\/vfs must be integer$/],
    ['too many VFs', { vfs: 4, nic: { maxVfs: 2 } }, /vfs \(4\) is more than nic\.maxVfs \(2\)$/],
    ['a multicast base MAC', { baseMac: '03:00:00:00:00:00' }, /VF MAC 03:00:00:00:00:00 is a multicast address$/],
    ['a replay without file', { uplink: { replay: { rate: 'line' } } }, /\/uplink\/replay must have required property 'file'$/],
  ])('a config file with %s: one line, status 2', async (_w, cfg, msg) => {
    const file = join(scratch, `bad-${Math.random()}.json`);
    writeFileSync(file, JSON.stringify(cfg));
    oneLineError(await vfmedAsync(['start', '--config', file, '--print-config']), 2, msg);
  });

  it.each([
    ['a missing config file', ['--config', '/nonexistent/vfmed.json'], 2, /cannot read \(ENOENT\)$/],
    ['a config that is not JSON', ['--config', '/etc/hostname'], 2, /not valid JSON/],
    ['--vfs out of range', ['--vfs', '9'], 2, /option '--vfs <n>' argument '9' is invalid/],
    ['a bad MAC', ['--base-mac', '02:00:00:00:00'], 2, /expected a MAC address/],
    ['a bad replay rate', ['--replay', 'x.pcap', '--replay-rate', 'fast'], 2, /expected 'line', 'max' or frames per second/],
    ['--snaplen without --capture', ['--snaplen', '100'], 2, /^vfmed: error: --snaplen needs --capture$/],
    ['a bad poll mode', ['--poll-mode', 'lazy'], 2, /\/nic\/pollMode must be equal to one of the allowed values/],
  ])('%s: one line, status %s', async (_w, args, code, msg) => {
    oneLineError(await vfmedAsync(['start', '--run-dir', join(scratch, 'never'), ...args, '--print-config']), code, msg);
  });

  it('a replay file that is not a pcap fails the start, and leaves no socket behind', async () => {
    const run = join(scratch, 'badreplay');
    const r = await vfmedAsync(['start', '--run-dir', run, '--max-vfs', '1', '--replay', '/etc/hostname', '--replay-start', 'now',
      '--log-level', 'silent']);
    oneLineError(r, 1, /^vfmed start: VFMED_ERR_PCAP: \/etc\/hostname: (too short|not a pcap)/);
    expect(() => statSync(join(run, 'control.sock'))).toThrow();
  });

  it('a run directory owned by someone else is refused', async () => {
    const run = join(scratch, 'foreign');
    mkdirSync(run, { recursive: true });
    if (process.getuid?.() === 0) {
      const { chownSync } = await import('node:fs');
      chownSync(run, 65534, 65534);
      const r = await vfmedAsync(['start', '--run-dir', run, '--log-level', 'silent']);
      oneLineError(r, 1, /VFMED_ERR_RUNDIR: .* belongs to uid 65534, not to this user \(0\)$/);
    }
  });
});

describe('vfmed start: permission problems', () => {
  it.skipIf(process.getuid?.() !== 0)('a TAP without CAP_NET_ADMIN: one line saying so, nothing left behind', async () => {
    const run = join(tmpdir(), `vfmed-nobody-${process.pid}`);
    try {
      const r = await vfmedAsync(['start', '--run-dir', run, '--max-vfs', '1', '--tap', 'vfmednp0', '--log-level', 'silent'],
        { uid: 65534, gid: 65534 });
      oneLineError(r, 1, /^vfmed start: VFMED_ERR_TAP: cannot create TAP interface vfmednp0: permission denied \(needs root or CAP_NET_ADMIN\)$/);
      expect(() => statSync(join(run, 'control.sock'))).toThrow();
    } finally {
      rmSync(run, { recursive: true, force: true });
    }
  });
});

describe('vfmed commands without a daemon', () => {
  it.each([
    ['status', ['status']],
    ['bind --vfs', ['bind', '--vfs', '2']],
    ['unbind', ['unbind']],
    ['stop', ['stop']],
    ['replay', ['replay', 'x.pcap']],
    ['guest --vf', ['guest', 'rxsink', '--vf', '0']],
  ])('%s: says no daemon is listening', async (_w, args) => {
    const r = await vfmedAsync([...args, '--run-dir', join(scratch, 'nodaemon')]);
    oneLineError(r, 1, /VFMED_ERR_NO_DAEMON: no daemon is listening on .*nodaemon\/control\.sock \(is 'vfmed start' running\?/);
  });
});

describe('vfmed with a running daemon', () => {
  let d: DaemonProc;
  beforeAll(async () => {
    d = await DaemonProc.start(['--max-vfs', '2'], 'cmds');
  });
  afterAll(async () => {
    await d?.stop();
    d?.cleanup();
  });

  it('the control socket is 0600 in a 0700 run directory', () => {
    expect(statSync(d.runDir).mode & 0o777).toBe(0o700);
    expect(statSync(d.control).mode & 0o777).toBe(0o600);
  });

  it('a second daemon on the same run directory is refused', async () => {
    const r = await vfmedAsync(['start', ...d.dirArgs, '--log-level', 'silent']);
    oneLineError(r, 1, /a daemon is already running \(its control socket .* answers\)$/);
  });

  it('status before any bind, bind, status, rebinding rules, unbind', async () => {
    const s0 = await vfmedAsync(['status', ...d.dirArgs]);
    expect(s0.code).toBe(0);
    expect(s0.stdout).toMatch(/PF: libvfpf, 0 of 2 VFs enabled/);
    expect(s0.stdout).toMatch(/no VFs bound/);
    oneLineError(await vfmedAsync(['bind', '--vfs', '3', ...d.dirArgs]), 1, /VFMED_ERR_BIND: VF count must be in 1\.\.2, got 3$/);
    const b = await vfmedAsync(['bind', '--vfs', '2', ...d.dirArgs]);
    expect(b.stdout).toBe(`vf0 02:76:66:6d:01:00 ${d.runDir}/vf0.sock\nvf1 02:76:66:6d:01:01 ${d.runDir}/vf1.sock\n`);
    expect((await vfmedAsync(['bind', '--vfs', '2', ...d.dirArgs])).code).toBe(0); // same count: nothing to do
    oneLineError(await vfmedAsync(['bind', '--vfs', '1', ...d.dirArgs]), 1, /2 VFs are bound; unbind them before binding 1 \(as with sriov_numvfs\)$/);
    const s1 = await vfmedAsync(['status', ...d.dirArgs]);
    expect(s1.stdout).toMatch(/PF: libvfpf, 2 of 2 VFs enabled/);
    expect(s1.stdout).toMatch(/│ vf1 +│ 02:76:66:6d:01:01 │ - /);
    oneLineError(await vfmedAsync(['guest', 'rxsink', '--vf', '7', ...d.dirArgs]), 1, /VF 7 is not bound \(bound: 0, 1;/);
    oneLineError(await vfmedAsync(['guest', 'rxsink', '--vf', '0', '--socket', '/x', ...d.dirArgs]), 2, /--vf and --socket\/--uio are mutually exclusive/);
    const bogus = await vfmedAsync(['guest', 'bogus', '--vf', '0', ...d.dirArgs]);
    expect(bogus.code).toBe(2); // vfmed-guest's own usage error, passed through
    expect(bogus.stderr).toMatch(/unknown workload 'bogus'/);
    expect((await vfmedAsync(['unbind', ...d.dirArgs])).stdout).toBe('2 VFs unbound\n');
  });

  it('replay errors: a missing file, a pcapng file, a bad rate', async () => {
    oneLineError(await vfmedAsync(['replay', '/nonexistent.pcap', ...d.dirArgs]), 1, /VFMED_ERR_PCAP: \/nonexistent\.pcap: cannot read: ENOENT$/);
    const ng = join(scratch, 'x.pcapng');
    writeFileSync(ng, Buffer.from('0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff1c000000', 'hex'));
    oneLineError(await vfmedAsync(['replay', ng, ...d.dirArgs]), 1, /pcapng is not supported \(convert it: editcap -F pcap IN OUT\)$/);
    oneLineError(await vfmedAsync(['replay', ng, '--rate', '0', ...d.dirArgs]), 2, /argument '0' is invalid/);
  });

  it('the control socket answers garbage with errors and keeps serving', async () => {
    const replies = await new Promise<string[]>((resolve, reject) => {
      const s = createConnection(d.control);
      let buf = '';
      s.setEncoding('utf8');
      s.on('connect', () => s.write('not json\n[1,2]\n{"cmd":"nope","id":7}\n{"cmd":"bind","id":8,"args":{"vfs":"x"}}\n{"cmd":"hello","id":9}\n'));
      s.on('data', (x: string) => {
        buf += x;
        if (buf.split('\n').length > 5) {
          s.destroy();
          resolve(buf.trim().split('\n'));
        }
      });
      s.on('error', reject);
    });
    const r = replies.map((l) => JSON.parse(l) as { id: unknown; ok: boolean; error?: { message: string } });
    expect(r.map((x) => [x.id, x.ok])).toEqual([[null, false], [null, false], [7, false], [8, false], [9, true]]);
    expect(r[2]!.error!.message).toBe('unknown command "nope"');
    expect(r[3]!.error!.message).toBe('bind needs {vfs: integer}');
  });
});

describe('vfmed start --background', () => {
  it('comes up detached, answers, and stops on vfmed stop', async () => {
    const run = join(scratch, 'bg');
    const r = await vfmedAsync(['start', '--background', '--run-dir', run, '--max-vfs', '1', '--vfs', '1']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^vfmed daemon started: pid \\d+, control ${run}/control\\.sock, log ${run}/vfmed\\.log\\n$`));
    const st = await vfmedAsync(['status', '--json', '--run-dir', run]);
    expect(JSON.parse(st.stdout).vfs).toHaveLength(1);
    expect((await vfmedAsync(['stop', '--run-dir', run])).code).toBe(0);
    oneLineError(await vfmedAsync(['status', '--run-dir', run]), 1, /no daemon is listening/);
  });

  it('reports why the daemon did not come up', async () => {
    const run = join(scratch, 'bg-bad');
    mkdirSync(run, { recursive: true, mode: 0o700 });
    writeFileSync(join(run, 'control.sock'), 'not a socket');
    chmodSync(run, 0o700);
    const r = await vfmedAsync(['start', '--background', '--run-dir', run]);
    oneLineError(r, 1, /^vfmed start: the daemon exited during start-up \(.*is not a socket; refusing to replace it.*; log: .*vfmed\.log\)$/);
  });
});
