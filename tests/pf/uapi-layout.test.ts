// The koffi declarations of /dev/vfpf's ioctl ABI (mediator/pf/vfpf-uapi.ts) against the C
// compiler's view of pf-driver/linux/vfpf_uapi.h (uapi-layout.c, compiled and run here):
// every struct's size and alignment, every field's offset and size, every request number
// and limit. The probe's hand-written lists are themselves checked for completeness against
// the header's text and by tiling (no implicit padding exists in the header).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import koffi from 'koffi';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../mediator/native/addon.js';
import {
  ioc, iocLayout, VFPF_IOC, VFPF_IOC_BITMAP_MAX, VFPF_IOC_DIRTY_MAX_RANGES, VFPF_IOC_MAGIC,
  VFPF_IOC_STATE_MAX, VFPF_UAPI_STRUCTS,
} from '../../mediator/pf/vfpf-uapi.js';

const root = repoRoot();
const header = readFileSync(join(root, 'pf-driver/linux/vfpf_uapi.h'), 'utf8');
const work = mkdtempSync(join(tmpdir(), 'vfpf-uapi-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface CLayout {
  structs: Map<string, { size: number; align: number }>;
  fields: Map<string, { name: string; offset: number; size: number }[]>;
  ioctls: Map<string, number>;
  consts: Map<string, number>;
}

function cLayout(): CLayout {
  const exe = join(work, 'uapi-layout');
  const cc = spawnSync('gcc', ['-std=gnu11', '-Wall', '-Wextra', '-Werror', '-I', join(root, 'pf-driver/linux'),
    '-o', exe, join(root, 'tests/pf/uapi-layout.c')], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`compiling uapi-layout.c failed:\n${cc.stderr}`);
  const run = spawnSync(exe, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`uapi-layout failed: ${run.stderr}`);
  const out: CLayout = { structs: new Map(), fields: new Map(), ioctls: new Map(), consts: new Map() };
  for (const line of run.stdout.trim().split('\n')) {
    const w = line.split(' ');
    if (w[0] === 'struct') out.structs.set(w[1]!, { size: Number(w[2]), align: Number(w[3]) });
    else if (w[0] === 'field') {
      const [s, f] = w[1]!.split('.') as [string, string];
      const list = out.fields.get(s) ?? [];
      list.push({ name: f, offset: Number(w[2]), size: Number(w[3]) });
      out.fields.set(s, list);
    } else if (w[0] === 'ioctl') out.ioctls.set(w[1]!, Number(w[2]));
    else if (w[0] === 'const') out.consts.set(w[1]!, Number(w[2]));
    else throw new Error(`unexpected probe line: ${line}`);
  }
  return out;
}

const c = cLayout();
const fieldsOf = (s: string) => c.fields.get(s) ?? [];

describe('vfpf_uapi.h probe (uapi-layout.c) is complete', () => {
  it('lists every struct and every ioctl the header defines', () => {
    const hStructs = [...header.matchAll(/^struct (vfpf_ioc_\w+) \{/gm)].map((m) => m[1]);
    const hIoctls = [...header.matchAll(/^#define VFPF_IOC_(\w+)\s+_IO[RW]*\(/gm)].map((m) => m[1]);
    expect(hStructs.length).toBeGreaterThan(0);
    expect([...c.structs.keys()].sort()).toEqual([...hStructs].sort());
    expect([...c.ioctls.keys()].sort()).toEqual([...hIoctls].sort());
  });

  it.each([...c.structs.keys()])('%s: the listed fields tile the struct with no gap', (s) => {
    const fields = [...fieldsOf(s)].sort((a, b) => a.offset - b.offset);
    let at = 0;
    for (const f of fields) {
      expect(f.offset, `${s}.${f.name} starts where the previous field ended`).toBe(at);
      at += f.size;
    }
    expect(at, `${s}: fields cover sizeof`).toBe(c.structs.get(s)!.size);
  });
});

describe('koffi declarations vs the C compiler', () => {
  it('declare exactly the header\'s structs', () => {
    expect(Object.keys(VFPF_UAPI_STRUCTS).sort()).toEqual([...c.structs.keys()].sort());
  });

  it.each([...c.structs.entries()])('%s: size, alignment, every field\'s offset and size', (s, want) => {
    const type = VFPF_UAPI_STRUCTS[s as keyof typeof VFPF_UAPI_STRUCTS];
    expect(koffi.sizeof(type)).toBe(want.size);
    expect(koffi.alignof(type)).toBe(want.align);
    const cFields = fieldsOf(s);
    expect(Object.keys(type.members ?? {}).sort()).toEqual(cFields.map((f) => f.name).sort());
    for (const f of cFields) {
      expect(koffi.offsetof(type, f.name), `${s}.${f.name} offset`).toBe(f.offset);
      expect(koffi.sizeof(type.members![f.name]!.type), `${s}.${f.name} size`).toBe(f.size);
    }
  });

  it.each(Object.values(VFPF_IOC).map((d) => [d.name, d] as const))('VFPF_IOC_%s request number', (name, d) => {
    expect(c.ioctls.has(name), `VFPF_IOC_${name} in the header`).toBe(true);
    expect(`0x${d.request.toString(16)}`).toBe(`0x${c.ioctls.get(name)!.toString(16)}`);
  });

  it('declares every request of the header, and the limits', () => {
    expect(Object.keys(VFPF_IOC).sort()).toEqual([...c.ioctls.keys()].sort());
    expect(VFPF_IOC_STATE_MAX).toBe(c.consts.get('STATE_MAX'));
    expect(VFPF_IOC_BITMAP_MAX).toBe(c.consts.get('BITMAP_MAX'));
    expect(VFPF_IOC_DIRTY_MAX_RANGES).toBe(c.consts.get('DIRTY_MAX_RANGES'));
    expect(VFPF_IOC_MAGIC).toBe(c.consts.get('MAGIC'));
  });
});

describe('_IOC encoding', () => {
  it('follows asm-generic on this machine and the powerpc/mips layout where it applies', () => {
    expect(iocLayout('x64')).toEqual(iocLayout('arm64'));
    // _IOWR(0xF6, 0x07, 16) on asm-generic and on powerpc (dir bits 31:29, READ|WRITE = 6).
    expect(ioc('rw', 0xf6, 7, 16, iocLayout('x64'))).toBe(0xc010f607);
    expect(ioc('rw', 0xf6, 7, 16, iocLayout('ppc64'))).toBe(0xc010f607);
    expect(ioc('w', 0xf6, 8, 16, iocLayout('x64'))).toBe(0x4010f608);
    expect(ioc('w', 0xf6, 8, 16, iocLayout('mips'))).toBe(0x8010f608);
    expect(ioc('none', 0xf6, 0x7f, 0, iocLayout('x64'))).toBe(0x0000f67f);
    expect(ioc('none', 0xf6, 0x7f, 0, iocLayout('ppc'))).toBe(0x2000f67f);
  });

  it('refuses fields that do not fit their bits', () => {
    expect(() => ioc('r', 0x100, 0, 4)).toThrow(RangeError);
    expect(() => ioc('r', 0xf6, 256, 4)).toThrow(RangeError);
    expect(() => ioc('r', 0xf6, 0, 1 << 14, iocLayout('x64'))).toThrow(RangeError);
    expect(() => ioc('r', 0xf6, 0, 1 << 13, iocLayout('ppc64'))).toThrow(RangeError);
  });
});
