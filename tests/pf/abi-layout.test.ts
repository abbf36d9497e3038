// The koffi struct declarations of mediator/pf/libvfpf-ffi.ts against the C compiler's
// layout of the same structs, as libvfpf.so reports it (vfpf_abi_layout): every struct's
// sizeof and every field's offset and size must match, and every C field must be declared.
import koffi from 'koffi';
import { describe, expect, it } from 'vitest';
import { VFPF_STRUCTS } from '../../mediator/pf/libvfpf-ffi.js';
import { PfDriver } from '../../mediator/pf/pf-driver.js';

const layout = PfDriver.abiLayout();

describe('libvfpf ABI layout', () => {
  it('reports every struct the binding declares, and only those', () => {
    const cStructs = new Set(layout.filter((f) => f.field === '').map((f) => f.type));
    expect([...cStructs].sort()).toEqual(Object.keys(VFPF_STRUCTS).sort());
  });

  it.each(layout.map((f) => [f.type, f.field || '(sizeof)', f] as const))(
    '%s.%s matches the koffi declaration',
    (_t, _f, f) => {
      const type = VFPF_STRUCTS[f.type as keyof typeof VFPF_STRUCTS];
      expect(type, `struct ${f.type} declared in libvfpf-ffi.ts`).toBeDefined();
      if (f.field === '') {
        expect(koffi.sizeof(type)).toBe(f.size);
        return;
      }
      expect(koffi.offsetof(type, f.field)).toBe(f.offset);
      const member = type.members?.[f.field];
      expect(member, `${f.type}.${f.field} declared`).toBeDefined();
      expect(koffi.sizeof(member!.type)).toBe(f.size);
    },
  );

  it('declares no field the C struct lacks', () => {
    for (const [name, type] of Object.entries(VFPF_STRUCTS)) {
      const cFields = layout.filter((f) => f.type === name && f.field !== '').map((f) => f.field);
      expect(Object.keys(type.members ?? {}).sort()).toEqual(cFields.sort());
    }
  });
});
