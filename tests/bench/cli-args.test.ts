// `vfmed bench` argument handling, run as a user would (child process): every wrong
// argument is exactly one line on stderr, nothing on stdout, no stack trace; usage errors
// exit 2, a request that is valid but cannot run (a pending scenario) exits 1 and says
// which component is missing. --list and --print-schema work without the device.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RESULT_SCHEMA } from '../../bench/report/result-schema.js';
import { bench, lines, scratch } from './run-bench.js';

const tmp = scratch('bench-args');
afterAll(() => tmp.remove());
const aFile = join(tmp.dir, 'a-file');
writeFileSync(aFile, 'x');
const usedDir = join(tmp.dir, 'used');
mkdirSync(usedDir);
writeFileSync(join(usedDir, 'result.json'), '{}');

const errors: [string, string[], number, RegExp][] = [
  ['unknown scenario', ['nosuch'], 2, /^vfmed: error: unknown scenario 'nosuch' \(known: passthrough, trapped, dirty, migration, access\)$/],
  ['unknown option', ['--fast'], 2, /^vfmed: error: unknown option '--fast'/],
  ['--out without a value', ['access', '--out'], 2, /^vfmed: error: option '--out <dir>' argument missing$/],
  ['--out empty', ['access', '--out', ''], 2, /^vfmed: error: --out needs a directory$/],
  ['--compare with one file', ['--compare', 'a.json'], 2, /^vfmed: error: --compare needs exactly two result files \(got 1\)$/],
  ['--compare with three files', ['--compare', 'a', 'b', 'c'], 2, /^vfmed: error: --compare needs exactly two result files \(got 3\)$/],
  ['--compare with --quick', ['--compare', 'a', 'b', '--quick'], 2, /^vfmed: error: --compare takes no scenario and no --quick$/],
  ['--list with a scenario', ['access', '--list'], 2, /^vfmed: error: --list takes no scenario or other option$/],
  ['--list with --print-schema', ['--list', '--print-schema'], 2, /^vfmed: error: --compare, --list and --print-schema are exclusive$/],
  ['--out is a file', ['access', '--quick', '--out', aFile], 2, /^vfmed: error: --out .*a-file is not a directory$/],
  ['--out holds a run', ['access', '--quick', '--out', usedDir], 2,
    /^vfmed: error: --out .*used already holds a run \(result\.json\); choose another directory$/],
];

describe('vfmed bench wrong arguments', () => {
  it.each(errors)('%s', (_what, args, code, msg) => {
    const r = bench(args);
    expect(r.code).toBe(code);
    expect(r.stdout).toBe('');
    expect(lines(r.stderr)).toHaveLength(1);
    expect(lines(r.stderr)[0]).toMatch(msg);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('vfmed bench --list, --print-schema, --help', () => {
  it('--list shows every scenario, which are pending and why', () => {
    const r = bench(['--list']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^access \(ready\)$/m);
    expect(r.stdout).toMatch(/^passthrough \(ready\)$/m);
    expect(r.stdout).toMatch(/^migration \(ready\)$/m);
  });

  it('--print-schema prints the result schema', () => {
    const r = bench(['--print-schema']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(JSON.stringify(RESULT_SCHEMA)));
  });

  it('--help documents the options', () => {
    const r = bench(['--help']);
    expect(r.code).toBe(0);
    for (const o of ['--quick', '--out <dir>', '--compare <files...>', '--list', '--print-schema', '--no-progress']) {
      expect(r.stdout).toContain(o);
    }
  });
});
