// `vfmed migrate` against a fake monitor (tests/cli/helpers/fake-monitor.ts) speaking the
// protocol of docs/live-migration.md — and breaking it: the request it sends for each
// option, progress and the final report, --json, failures, refusals, malformed and
// oversized lines, a monitor that dies mid-migration, missing or refused sockets, usage
// errors, --status, --cancel and Ctrl-C. Every failure must be one line, no stack trace.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../mediator/native/addon.js';
import { FakeMonitor, RAM, completed, progress, type Conn, type Request } from './helpers/fake-monitor.js';
import { vfmedAsync } from './run-vfmed.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vfmed-migrate-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let seq = 0;
/** A fake monitor in its own directory, answering `migrate` with `script`. */
async function monitor(script: (req: Request, conn: Conn) => void): Promise<FakeMonitor> {
  const d = join(dir, `m${seq++}`);
  (await import('node:fs')).mkdirSync(d);
  return FakeMonitor.start(d, script);
}

/** The one-line-error rule: exactly one line on stderr, no stack frames. */
function oneLineError(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
  return lines[0]!;
}

const happy = (req: Request, c: Conn): void => {
  if (req.cmd !== 'migrate') return;
  c.send({ event: 'migration', phase: 'setup' });
  c.reply(req, { ok: true });
  c.send({ event: 'migration', phase: 'compat-ok' });
  c.send(progress(0, 107 * 4096));
  c.send(progress(1, 30 * 4096));
  c.send({ event: 'something-new', x: 1 }); // unknown events are ignored (shown with --json)
  c.send(completed());
  c.end();
};

describe('vfmed migrate: a migration that completes', () => {
  it('sends the request the options say, shows progress per round, prints the report, exits 0', async () => {
    const m = await monitor(happy);
    try {
      const r = await vfmedAsync(['migrate', '--guest', m.path, '--to', '10.0.0.2:4444', '--downtime-limit', '50',
        '--max-bandwidth', '100M', '--dirty-tracking', 'device-log', '--max-rounds', '5', '--verify-ram', '--timeout', '2000']);
      expect(r.stderr).not.toMatch(/error/);
      expect(r.code).toBe(0);
      expect(m.requests).toEqual([{
        id: 1, cmd: 'migrate', to: '10.0.0.2:4444', downtime_limit_ms: 50, max_bandwidth: 100 * 2 ** 20,
        dirty_tracking: 'device-log', max_rounds: 5, verify_ram: true, timeout_ms: 2000,
      }]);
      // Not a terminal: one plain line per phase and per round on stderr.
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines[0]).toBe('migration: setup');
      expect(lines[1]).toBe('migration: compat-ok');
      expect(lines[2]).toMatch(/^round 0: 428 KiB of 64\.0 MiB RAM left, 16384 pages sent .*expected downtime 12 ms$/);
      expect(lines[3]).toMatch(/^round 1: 120 KiB of 64\.0 MiB RAM left, 107 pages sent \(100 CPU-dirty, 7 device-dirty\)/);
      // The report: totals, downtime against the limit, bytes as a multiple of RAM, pages per
      // tracker, frames, and a row per round.
      expect(r.stdout).toMatch(/migration completed/);
      expect(r.stdout).toMatch(/downtime\s*│\s*41\.2 ms \(limit 50 ms;/);
      expect(r.stdout).toMatch(/= 1\.01 x RAM/);
      expect(r.stdout).toMatch(/CPU 125, device 12/);
      expect(r.stdout).toMatch(/100000 received, 0 lost, 0 duplicated, 0 reordered/);
      expect(r.stdout).toMatch(/RAM verified\s*│\s*yes/);
      expect(r.stdout).toMatch(/│ 1\s+│ 107\s+│ 100\s+│ 7\s+│ 428 KiB\s+│ 40 ms/);
    } finally {
      await m.close();
    }
  });

  it('defaults: only to and downtime_limit_ms 300 are sent', async () => {
    const m = await monitor(happy);
    try {
      const r = await vfmedAsync(['migrate', '--guest', m.path, '--to', '[fd00::2]:4444']);
      expect(r.code).toBe(0);
      expect(m.requests).toEqual([{ id: 1, cmd: 'migrate', to: '[fd00::2]:4444', downtime_limit_ms: 300 }]);
      expect(r.stdout).toMatch(/limit 300 ms/);
    } finally {
      await m.close();
    }
  });

  it('--json: every event as a JSON line in order, the summary object last; nothing on stderr', async () => {
    const m = await monitor(happy);
    try {
      const r = await vfmedAsync(['migrate', '--guest', m.path, '--to', 'b:1', '--json', '--max-bandwidth', '1G']);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      expect(m.requests[0]).toMatchObject({ max_bandwidth: 2 ** 30 });
      const objs = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(objs.map((o) => o['event'] ?? 'summary')).toEqual(['migration', 'migration', 'progress', 'progress', 'something-new', 'completed', 'summary']);
      expect(objs[2]).toEqual(progress(0, 107 * 4096));
      expect(objs.at(-1)).toEqual({
        result: 'completed', to: 'b:1', tracker: 'tail-trap', total_ms: 812.5, setup_ms: 3.1, downtime_ms: 41.2,
        downtime_limit_ms: 300, rounds: 3, ram_bytes: RAM, bytes_sent: RAM + 137 * 4096 + 4000, device_bytes: 4000,
        ram_multiple: (RAM + 137 * 4096 + 4000) / RAM, pages_cpu: 125, pages_device: 12, ram_verified: true, verify_ms: 55,
        frames: { rx: 100000, lost: 0, duplicated: 0, reordered: 0 },
      });
    } finally {
      await m.close();
    }
  });
});

describe('vfmed migrate: failures', () => {
  it('a failed migration: the runner\'s error and "source still running", exit 1', async () => {
    const m = await monitor((req, c) => {
      c.reply(req, { ok: true });
      c.send(progress(0, 4096));
      c.send({ event: 'failed', error: 'destination refused: incompatible destination: rxFifoBytes', stage: 'compat', source_running: true });
    });
    try {
      const r = await vfmedAsync(['migrate', '--guest', m.path, '--to', 'b:1']);
      expect(r.code).toBe(1);
      const err = r.stderr.trimEnd().split('\n').at(-1)!;
      expect(err).toBe('vfmed migrate: migration failed at compat: destination refused: incompatible destination: rxFifoBytes; source still running');
      expect(r.stderr).not.toMatch(/\n\s+at /);
      const j = await vfmedAsync(['migrate', '--guest', m.path, '--to', 'b:1', '--json']);
      expect(j.code).toBe(1);
      expect(JSON.parse(j.stdout.trimEnd().split('\n').at(-1)!)).toMatchObject({ result: 'failed', stage: 'compat', source_running: true });
      oneLineError(j.stderr);
    } finally {
      await m.close();
    }
  });

  it('a refused request (already migrating, bad argument): one line, exit 1', async () => {
    const m = await monitor((req, c) => c.reply(req, { ok: false, error: 'a migration is already active' }));
    try {
      const r = await vfmedAsync(['migrate', '--guest', m.path, '--to', 'b:1']);
      expect(r.code).toBe(1);
      expect(oneLineError(r.stderr)).toBe('vfmed migrate: the guest runner refused to migrate: a migration is already active');
    } finally {
      await m.close();
    }
  });

  const broken: Array<[string, (req: Request, c: Conn) => void, RegExp]> = [
    ['a line that is not JSON', (req, c) => { c.reply(req, { ok: true }); c.send('{"event":"progress", round'); }, /malformed line from the monitor .*: not JSON/],
    ['a JSON array', (req, c) => { c.reply(req, { ok: true }); c.send('[1,2]'); }, /not a JSON object/],
    ['a progress event without its numbers', (req, c) => { c.reply(req, { ok: true }); c.send({ event: 'progress', round: 1 }); }, /progress event: "ram_bytes" is missing/],
    ['a negative count', (req, c) => { c.reply(req, { ok: true }); c.send(progress(1, -5)); }, /"ram_remaining_bytes" is -5/],
    ['a completed event with bad rounds', (req, c) => { c.reply(req, { ok: true }); c.send({ ...completed(), rounds: [{ round: 0 }] }); }, /rounds\[0\]: "pages" is missing/],
    ['a line over 64 KiB', (req, c) => { c.reply(req, { ok: true }); c.send(`{"event":"x","pad":"${'a'.repeat(70_000)}"}`); }, /a line of 70\d+ bytes \(at most 65536\)/],
    ['64 KiB without a newline', (req, c) => { c.reply(req, { ok: true }); c.send('a'.repeat(70_000), true); }, /a line longer than 65536 bytes/],
    ['a reply to no request', (req, c) => { c.reply(req, { ok: true }); c.send({ id: 99, ok: true }); }, /a reply to no request \(id 99\)/],
    ['an error line', (_req, c) => c.send({ error: 'line too long' }), /the monitor .* refused a request: line too long/],
    ['the monitor dying mid-migration', (req, c) => { c.reply(req, { ok: true }); c.send(progress(0, 4096)); setTimeout(() => c.destroy(), 20); }, /the monitor .* closed the connection; the outcome of the migration is unknown \(vfmed migrate --guest .* --status\)/],
    ['the monitor closing before replying', (_req, c) => c.end(), /closed the connection/],
  ];
  for (const [what, script, msg] of broken) {
    it(`${what}: one line, exit 1`, async () => {
      const m = await monitor(script);
      try {
        const r = await vfmedAsync(['migrate', '--guest', m.path, '--to', 'b:1']);
        expect(r.code).toBe(1);
        const err = r.stderr.trimEnd().split('\n').at(-1)!;
        expect(err).toMatch(/^vfmed migrate: /);
        expect(err).toMatch(msg);
        expect(r.stderr).not.toMatch(/\n\s+at |TypeError|internal error/);
      } finally {
        await m.close();
      }
    });
  }

  it('no socket, or a path nothing listens on: one line, exit 1', async () => {
    let r = await vfmedAsync(['migrate', '--guest', join(dir, 'missing.sock'), '--to', 'b:1']);
    expect(r.code).toBe(1);
    expect(oneLineError(r.stderr)).toMatch(/^vfmed migrate: cannot connect to the monitor .*missing\.sock: no such socket \(ENOENT\)$/);
    const file = join(dir, 'plain-file');
    writeFileSync(file, '');
    r = await vfmedAsync(['migrate', '--guest', file, '--status']);
    expect(r.code).toBe(1);
    expect(oneLineError(r.stderr)).toMatch(/^vfmed migrate: cannot connect to the monitor .*plain-file: nothing listens on it \(ECONNREFUSED\)$/);
  });

  it('usage errors: exit 2, one line, nothing sent', async () => {
    const m = await monitor(happy);
    try {
      const cases: Array<[string[], RegExp]> = [
        [['--to', 'b:1'], /required option '--guest <socket>' not specified/],
        [['--guest', m.path], /needs --to HOST:PORT, --cancel or --status/],
        [['--guest', m.path, '--to', 'b:1', '--cancel'], /--to, --cancel are mutually exclusive/],
        [['--guest', m.path, '--status', '--downtime-limit', '5'], /--downtime-limit only goes with --to/],
        [['--guest', m.path, '--cancel', '--verify-ram', '--max-rounds', '3'], /--max-rounds, --verify-ram only go with --to/],
        [['--guest', m.path, '--to', 'b'], /'--to <host:port>' argument 'b' is invalid/],
        [['--guest', m.path, '--to', 'b:70000'], /argument 'b:70000' is invalid/],
        [['--guest', m.path, '--to', 'b:1', '--max-bandwidth', 'fast'], /argument 'fast' is invalid/],
        [['--guest', m.path, '--to', 'b:1', '--max-bandwidth', '-1M'], /argument '-1M' is invalid/],
        [['--guest', m.path, '--to', 'b:1', '--dirty-tracking', 'pml'], /expected one of tail-trap, device-log, all/],
        [['--guest', m.path, '--to', 'b:1', '--downtime-limit', '0'], /expected an integer in 1\.\.3600000/],
        [['--guest', m.path, '--to', 'b:1', '--max-rounds', '2.5'], /argument '2\.5' is invalid/],
        [['--guest', m.path, '--to', 'b:1', 'extra'], /too many arguments|unknown command|excess/i],
      ];
      for (const [args, msg] of cases) {
        const r = await vfmedAsync(['migrate', ...args]);
        expect(r.code, args.join(' ')).toBe(2);
        expect(oneLineError(r.stderr)).toMatch(msg);
      }
      expect(m.requests).toEqual([]);
    } finally {
      await m.close();
    }
  });
});

describe('vfmed migrate --status / --cancel / Ctrl-C', () => {
  it('--status prints the state and the last event; --json the object', async () => {
    const m = await monitor((req, c) => {
      if (req.cmd === 'query-migrate') c.reply(req, { ok: true, status: 'active', last: progress(2, 8192) });
    });
    try {
      let r = await vfmedAsync(['migrate', '--guest', m.path, '--status']);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('migration: active (round 2, 8.00 KiB of 64.0 MiB RAM left, expected downtime 12 ms)\n');
      r = await vfmedAsync(['migrate', '--guest', m.path, '--status', '--json']);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ status: 'active', last: progress(2, 8192) });
      expect(m.requests.map((q) => q.cmd)).toEqual(['query-migrate', 'query-migrate']);
    } finally {
      await m.close();
    }
  });

  it('--status with a status outside the protocol: one line, exit 1', async () => {
    const m = await monitor((req, c) => c.reply(req, { ok: true, status: 'sleeping' }));
    try {
      const r = await vfmedAsync(['migrate', '--guest', m.path, '--status']);
      expect(r.code).toBe(1);
      expect(oneLineError(r.stderr)).toMatch(/query-migrate status "sleeping"/);
    } finally {
      await m.close();
    }
  });

  it('--cancel sends migrate-cancel; a refusal is exit 1', async () => {
    let ok = true;
    const m = await monitor((req, c) => c.reply(req, ok ? { ok: true } : { ok: false, error: 'no migration is active' }));
    try {
      let r = await vfmedAsync(['migrate', '--guest', m.path, '--cancel']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/cancel requested/);
      ok = false;
      r = await vfmedAsync(['migrate', '--guest', m.path, '--cancel']);
      expect(r.code).toBe(1);
      expect(oneLineError(r.stderr)).toBe('vfmed migrate: migrate-cancel refused: no migration is active');
      expect(m.requests.map((q) => q.cmd)).toEqual(['migrate-cancel', 'migrate-cancel']);
    } finally {
      await m.close();
    }
  });

  it('Ctrl-C during a migration cancels it; the failure says the source still runs', async () => {
    let conn: Conn | null = null;
    const m = await monitor((req, c) => {
      if (req.cmd === 'migrate') {
        conn = c;
        c.reply(req, { ok: true });
        c.send(progress(0, RAM / 2));
      } else if (req.cmd === 'migrate-cancel') {
        c.reply(req, { ok: true });
        c.send({ event: 'failed', error: 'cancelled', stage: 'precopy', source_running: true });
      }
    });
    try {
      const child = spawn(process.execPath, [join(repoRoot(), 'dist', 'mediator', 'cli', 'main.js'), 'migrate', '--guest', m.path, '--to', 'b:1'],
        { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('round 0:') && !child.killed) child.kill('SIGINT');
      });
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(conn).not.toBeNull();
      expect(code).toBe(1);
      expect(m.requests.map((q) => q.cmd)).toEqual(['migrate', 'migrate-cancel']);
      expect(stderr).toMatch(/cancelling the migration/);
      expect(stderr.trimEnd().split('\n').at(-1)).toBe('vfmed migrate: migration failed at precopy: cancelled; source still running');
    } finally {
      await m.close();
    }
  });
});
