// `vfmed` argument handling, run as the installed command would be (a child process on
// dist/mediator/cli/main.js): every wrong command, option or value is exactly one line on
// stderr starting "vfmed: error:", nothing on stdout, exit status 2, and never a stack
// trace; --help and --version succeed.
import { describe, expect, it } from 'vitest';
import { vfmed } from './run-vfmed.js';

const usageErrors: [string, string[], RegExp][] = [
  ['no command', [], /^vfmed: error: missing command \(try 'vfmed --help'\)$/],
  ['unknown command', ['bogus'], /^vfmed: error: unknown command 'bogus'/],
  ['unknown option', ['demo', '--bogus'], /^vfmed: error: unknown option '--bogus'/],
  ['unknown global option', ['--bogus', 'demo'], /^vfmed: error: unknown option '--bogus'/],
  ['misspelled command', ['dmeo'], /^vfmed: error: unknown command 'dmeo' \(Did you mean demo\?\)$/],
  ['misspelled option', ['demo', '--frame', '3'], /^vfmed: error: unknown option '--frame' \(Did you mean --frames\?\)$/],
  ['frames 0', ['demo', '--frames', '0'], /^vfmed: error: option '-n, --frames <n>' argument '0' is invalid\. expected an integer in 1\.\.100000000\.$/],
  ['frames too many', ['demo', '--frames', '100000001'], /argument '100000001' is invalid/],
  ['frames too many in process', ['demo', '--in-process', '--frames', '1000001'], /^vfmed: error: --in-process takes at most 1000000 frames per stream$/],
  ['size too small', ['demo', '--size', '59'], /option '--size <bytes>' argument '59' is invalid\. expected an integer in 60\.\.1514\.$/],
  ['size with --in-process', ['demo', '--in-process', '--size', '100'], /^vfmed: error: --size applies to the guest runner demo, not --in-process$/],
  ['start: extra argument', ['start', 'now'], /^vfmed: error: too many arguments for 'start'/],
  ['status: unknown option', ['status', '--table'], /^vfmed: error: unknown option '--table'/],
  ['bind: --vfs 0', ['bind', '--vfs', '0'], /option '--vfs <n>' argument '0' is invalid\. expected an integer in 1\.\.8\.$/],
  ['bind: bad method', ['bind', '0000:00:01.0', '--method', 'magic'], /^vfmed: error: --method must be override or new-id, got 'magic'$/],
  ['replay: no file', ['replay'], /^vfmed: error: missing required argument 'file'$/],
  ['replay: bad loop', ['replay', 'x.pcap', '--loop', '-1'], /option '--loop <n>' argument '-1' is invalid/],
  ['guest: --vf out of range', ['guest', 'rxsink', '--vf', '8'], /^vfmed: error: option '--vf' argument '8' is invalid\. expected a VF number 0\.\.7\.$/],
  ['start: bad --dirty-tracking', ['start', '--dirty-tracking', 'pml'], /^vfmed: error: option '--dirty-tracking <mode>' argument 'pml' is invalid\. expected one of tail-trap, device-log, all\.$/],
  ['guest: --vf without value', ['guest', 'rxsink', '--vf'], /^vfmed: error: option '--vf' argument missing$/],
  ['frames not a number', ['demo', '--frames', 'abc'], /argument 'abc' is invalid/],
  ['frames fractional', ['demo', '-n', '1.5'], /argument '1\.5' is invalid/],
  ['frames negative', ['demo', '--frames=-3'], /argument '-3' is invalid/],
  ['frames in hex', ['demo', '--frames', '0x10'], /argument '0x10' is invalid/],
  ['frames with exponent', ['demo', '--frames', '1e3'], /argument '1e3' is invalid/],
  ['frames without value', ['demo', '--frames'], /^vfmed: error: option '-n, --frames <n>' argument missing$/],
  ['extra argument', ['demo', 'extra'], /^vfmed: error: too many arguments for 'demo'/],
  ['bad log level', ['demo', '--log-level', 'loud'], /argument 'loud' is invalid\. expected one of fatal, error, warn, info, debug, trace, silent\.$/],
];

describe('vfmed usage errors', () => {
  it.each(usageErrors)('%s', (_what, args, msg) => {
    const r = vfmed(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(msg);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('vfmed help and version', () => {
  it('--help lists the demo command and exits 0', () => {
    const r = vfmed(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: vfmed/);
    expect(r.stdout).toMatch(/demo/);
  });

  it('demo --help documents its options', () => {
    const r = vfmed(['demo', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--frames <n>/);
    expect(r.stdout).toMatch(/--json/);
  });

  it('--version prints the package version', () => {
    const r = vfmed(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('vfmed runtime failures', () => {
  it('a missing native build is one line and exit 1', () => {
    const r = vfmed(['demo', '--frames', '1'], { ...process.env, VFMED_BUILD_DIR: '/nonexistent/vfmed-build' });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^vfmed demo: .*native addon not built \(\/nonexistent\/vfmed-build\/vfmed_hw\.node missing\)/);
  });
});
