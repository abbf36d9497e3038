// The real kernel module: scripts/build-kmod.sh builds vfpf.ko against the Debian 6.1
// headers (fetched and unpacked by scripts/kernel/fetch.sh) with W=1 and must produce the
// module without a single compiler warning. Also checks that the uapi header of /dev/vfpf
// compiles on its own in userspace and has no implicit padding (fixed layouts across
// 32/64-bit callers).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../mediator/native/addon.js';

const root = repoRoot();
const work = mkdtempSync(join(tmpdir(), 'vfpf-kmod-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('vfpf.ko', () => {
  it('builds with W=1 and zero warnings', () => {
    const out = join(work, 'kmod');
    const r = spawnSync('bash', [join(root, 'scripts/build-kmod.sh')], {
      cwd: root, encoding: 'utf8', env: { ...process.env, VFMED_KMOD_OUT: out }, timeout: 280_000,
    });
    expect(r.status, `build-kmod.sh failed:\n${r.stdout}\n${r.stderr}`).toBe(0);
    const ko = r.stdout.trim().split('\n').pop()!;
    expect(ko).toBe(join(out, 'vfpf.ko'));
    expect(existsSync(ko)).toBe(true);

    const log = readFileSync(join(out, 'build.log'), 'utf8');
    expect(log).toMatch(/LD \[M\]\s+\S+vfpf\.ko/);
    expect(log).not.toMatch(/warning:/i);
    // Every object really compiled with the W=1 warning set.
    const objs = ['vfpf_main', 'vfpf_cdev', 'vfpf_os'].map((o) => join(out, `.${o}.o.cmd`))
      .concat(readdirSync(join(out, 'core')).filter((f) => f.endsWith('.o.cmd')).map((f) => join(out, 'core', f)));
    expect(objs.length).toBe(3 + 7);
    for (const cmd of objs) {
      expect(readFileSync(cmd, 'utf8'), cmd).toContain('-DKBUILD_EXTRA_WARN1');
    }
    // The module binds the ivshmem id and carries its parameters.
    const info = readFileSync(ko).toString('latin1');
    expect(info).toContain('alias=pci:v00001AF4d00001110sv*sd*bc*sc*i*');
    expect(info).toContain('license=GPL');
    expect(info).toContain('parm=num_vfs:');
  }, 300_000);

  it('has a self-contained uapi header without implicit padding', () => {
    const src = join(work, 'uapi.c');
    writeFileSync(src, [
      '#include "vfpf_uapi.h"',
      '#include <stddef.h>',
      '_Static_assert(sizeof(struct vfpf_ioc_blob) == 16, "blob");',
      '_Static_assert(offsetof(struct vfpf_ioc_dirty_report, bitmap_len) == 32, "report");',
      '_Static_assert(sizeof(struct vfpf_ioc_stats) == 8 + 15 * 8, "stats");',
      'int main(void) { return (int)(VFPF_IOC_SAVE & 0); }',
    ].join('\n'));
    const r = spawnSync('gcc', ['-std=c99', '-Wall', '-Wextra', '-Wpadded', '-Werror', '-fsyntax-only',
      '-I', join(root, 'pf-driver/linux'), src], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  });
});
