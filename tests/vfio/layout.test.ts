// Checks the numbers and struct layouts of mediator/vfio against C: a small program built
// with gcc against the system's <linux/vfio.h> and <linux/pci_regs.h> and the project's
// vf_regs.h prints constants, and fills structs with marker values whose bytes must equal
// what messages.ts encodes. The vfio-user-only structs (header, DMA map, region access) are
// declared in the C program from the spec's tables, packed, as the spec defines them.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../mediator/native/addon.js';
import * as regs from '../../mediator/hw/vf-regs.js';
import * as m from '../../mediator/vfio/messages.js';
import { Pci } from '../../mediator/vfio/pci-config.js';
import * as p from '../../mediator/vfio/protocol.js';

// Every export of mediator/hw/vf-regs.ts is looked up in vf_regs.h under the C names it
// may have (E1000_VF_X, E1000_X, E1000_ADVX, VFMED_VF_X, VFMED_X, or an explicit alias);
// functions are evaluated at every index they take.
const ALIAS: Record<string, string> = {
  MSG_ACK: 'E1000_VT_MSGTYPE_ACK', MSG_NACK: 'E1000_VT_MSGTYPE_NACK', MSG_CTS: 'E1000_VT_MSGTYPE_CTS',
  MSGINFO_SHIFT: 'E1000_VT_MSGINFO_SHIFT', XDCTL_WTHRESH_1: 'E1000_RXDCTL_RESET',
  RXD_OFF_STATUS: 'offsetof(struct e1000_adv_rx_desc_wb, status_error)',
  RXD_OFF_LENGTH: 'offsetof(struct e1000_adv_rx_desc_wb, length)',
  RXD_OFF_VLAN: 'offsetof(struct e1000_adv_rx_desc_wb, vlan)',
  TXD_OFF_CMD: 'offsetof(struct e1000_adv_tx_desc, cmd_type_len)',
  TXD_OFF_OLINFO: 'offsetof(struct e1000_adv_tx_desc, olinfo_status)',
};
const TS_ONLY = new Set(['RXDEXT_ERR_FRAME', 'QERR', 'qerrName', 'rxBufferBytes', 'queueOfOffset']);
const INDEXES: Record<string, number[]> = { VMBMEM: [0, 15], EITR: [0, 1, 2] };
const regExports = Object.entries(regs).filter(([k]) => !TS_ONLY.has(k));
const cNames = (k: string) => (ALIAS[k] ? [ALIAS[k]] : [`E1000_VF_${k}`, `E1000_${k}`, `E1000_ADV${k}`, `VFMED_VF_${k}`, `VFMED_${k}`]);
const probe = (name: string, expr: string) =>
  name.startsWith('offsetof') ? `\tprintf("\\"%s\\":%lld,\\n", "${name}", (long long)(${expr}));`
    : `#ifdef ${name}\n\tprintf("\\"%s\\":%lld,\\n", "${expr}", (long long)(${expr}));\n#endif`;
const VF_REGS_C = regExports.flatMap(([k, v]) => cNames(k).flatMap((n) => (typeof v === 'function'
  ? (INDEXES[k] ?? [0, 1]).map((i) => probe(n, `${n}(${i})`)) : [probe(n, n)]))).join('\n')
  + Object.keys(regs.QERR).map((q) => `\n\tNUM(VFMED_QERR_${q});`).join('');

const C = String.raw`
#include <stdio.h>
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <linux/vfio.h>
#include <linux/pci_regs.h>
#include "vfmed/vf_regs.h"

/* vfio-user structs from the spec tables (docs/interop/vfio-user.rst). */
struct hdr { uint16_t msg_id, cmd; uint32_t size, flags, error; } __attribute__((packed));
struct dma_map { uint32_t argsz, flags; uint64_t offset, addr, size; } __attribute__((packed));
struct dma_unmap { uint32_t argsz, flags; uint64_t addr, size; } __attribute__((packed));
struct region_access { uint64_t offset; uint32_t region, count; } __attribute__((packed));
struct mig_data { uint32_t argsz, size; } __attribute__((packed));

static void hex(const char *name, const void *p, size_t n, int last)
{
	const unsigned char *b = p;
	printf("\"%s\":\"", name);
	for (size_t i = 0; i < n; i++) printf("%02x", b[i]);
	printf("\"%s\n", last ? "" : ",");
}
#define NUM(x) printf("\"%s\":%lld,\n", #x, (long long)(x))

int main(void)
{
	printf("{\n");
	NUM(VFIO_DEVICE_FLAGS_RESET); NUM(VFIO_DEVICE_FLAGS_PCI);
	NUM(VFIO_REGION_INFO_FLAG_READ); NUM(VFIO_REGION_INFO_FLAG_WRITE);
	NUM(VFIO_REGION_INFO_FLAG_MMAP); NUM(VFIO_REGION_INFO_FLAG_CAPS);
	NUM(VFIO_REGION_INFO_CAP_SPARSE_MMAP); NUM(VFIO_REGION_INFO_CAP_TYPE);
	NUM(VFIO_REGION_INFO_CAP_MSIX_MAPPABLE);
	NUM(VFIO_PCI_BAR0_REGION_INDEX); NUM(VFIO_PCI_BAR3_REGION_INDEX); NUM(VFIO_PCI_ROM_REGION_INDEX);
	NUM(VFIO_PCI_CONFIG_REGION_INDEX); NUM(VFIO_PCI_VGA_REGION_INDEX); NUM(VFIO_PCI_NUM_REGIONS);
	NUM(VFIO_PCI_INTX_IRQ_INDEX); NUM(VFIO_PCI_MSI_IRQ_INDEX); NUM(VFIO_PCI_MSIX_IRQ_INDEX);
	NUM(VFIO_PCI_ERR_IRQ_INDEX); NUM(VFIO_PCI_REQ_IRQ_INDEX); NUM(VFIO_PCI_NUM_IRQS);
	NUM(VFIO_IRQ_INFO_EVENTFD); NUM(VFIO_IRQ_INFO_MASKABLE); NUM(VFIO_IRQ_INFO_AUTOMASKED); NUM(VFIO_IRQ_INFO_NORESIZE);
	NUM(VFIO_IRQ_SET_DATA_NONE); NUM(VFIO_IRQ_SET_DATA_BOOL); NUM(VFIO_IRQ_SET_DATA_EVENTFD);
	NUM(VFIO_IRQ_SET_ACTION_MASK); NUM(VFIO_IRQ_SET_ACTION_UNMASK); NUM(VFIO_IRQ_SET_ACTION_TRIGGER);
	NUM(VFIO_IRQ_SET_DATA_TYPE_MASK); NUM(VFIO_IRQ_SET_ACTION_TYPE_MASK);
	NUM(VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP); NUM(VFIO_DMA_UNMAP_FLAG_ALL); NUM(VFIO_DMA_UNMAP_FLAG_VADDR);
	NUM(VFIO_DEVICE_FEATURE_MASK); NUM(VFIO_DEVICE_FEATURE_GET); NUM(VFIO_DEVICE_FEATURE_SET); NUM(VFIO_DEVICE_FEATURE_PROBE);
	NUM(sizeof(struct vfio_region_info)); NUM(sizeof(struct vfio_irq_info)); NUM(sizeof(struct vfio_irq_set));
	NUM(sizeof(struct vfio_info_cap_header)); NUM(sizeof(struct vfio_region_info_cap_sparse_mmap));
	NUM(sizeof(struct vfio_region_sparse_mmap_area)); NUM(sizeof(struct vfio_region_info_cap_type));
	NUM(sizeof(struct vfio_device_feature));
	NUM(PCI_COMMAND); NUM(PCI_STATUS); NUM(PCI_COMMAND_MEMORY); NUM(PCI_COMMAND_MASTER); NUM(PCI_COMMAND_PARITY);
	NUM(PCI_COMMAND_SERR); NUM(PCI_COMMAND_INTX_DISABLE); NUM(PCI_STATUS_CAP_LIST); NUM(PCI_BASE_ADDRESS_0);
	NUM(PCI_BASE_ADDRESS_MEM_TYPE_64); NUM(PCI_BASE_ADDRESS_MEM_PREFETCH); NUM(PCI_SUBSYSTEM_VENDOR_ID); NUM(PCI_ROM_ADDRESS);
	NUM(PCI_CAPABILITY_LIST); NUM(PCI_INTERRUPT_LINE); NUM(PCI_INTERRUPT_PIN); NUM(PCI_CAP_ID_MSIX); NUM(PCI_CAP_ID_EXP);
	NUM(PCI_MSIX_FLAGS); NUM(PCI_MSIX_TABLE); NUM(PCI_MSIX_PBA); NUM(PCI_MSIX_FLAGS_ENABLE); NUM(PCI_MSIX_FLAGS_MASKALL);
	NUM(PCI_CAP_MSIX_SIZEOF); NUM(PCI_MSIX_ENTRY_SIZE); NUM(PCI_MSIX_ENTRY_VECTOR_CTRL);
	NUM(PCI_EXP_FLAGS); NUM(PCI_EXP_DEVCAP); NUM(PCI_EXP_DEVCTL); NUM(PCI_EXP_DEVSTA); NUM(PCI_EXP_LNKCAP);
	NUM(PCI_EXP_LNKCTL); NUM(PCI_EXP_LNKSTA); NUM(PCI_EXP_DEVCAP2); NUM(PCI_EXP_DEVCTL2); NUM(PCI_EXP_LNKCAP2);
	NUM(PCI_EXP_LNKCTL2); NUM(PCI_CAP_EXP_ENDPOINT_SIZEOF_V2); NUM(PCI_EXP_DEVCAP_FLR); NUM(PCI_EXP_DEVCTL_BCR_FLR);
	NUM(PCI_CFG_SPACE_SIZE); NUM(PCI_CFG_SPACE_EXP_SIZE);
${VF_REGS_C}
	NUM(sizeof(struct hdr)); NUM(sizeof(struct dma_map)); NUM(sizeof(struct dma_unmap));
	NUM(sizeof(struct region_access)); NUM(sizeof(struct mig_data));

	struct vfio_region_info ri = { .argsz = 0x11223344, .flags = 0x0f, .index = 7, .cap_offset = 32,
				       .size = 0x0102030405060708ull, .offset = 0x1112131415161718ull };
	struct vfio_irq_info ii = { .argsz = 16, .flags = 0x9, .index = 2, .count = 3 };
	struct { struct vfio_irq_set s; uint8_t d[3]; } is = { { .argsz = 23, .flags = 0x22, .index = 2, .start = 1, .count = 3 }, { 1, 0, 1 } };
	struct { struct vfio_region_info_cap_sparse_mmap s; struct vfio_region_sparse_mmap_area a[2]; } sm;
	memset(&sm, 0, sizeof(sm));
	sm.s.nr_areas = 2; sm.a[0].offset = 0x2000; sm.a[0].size = 0x2000; sm.a[1].offset = 0x8000; sm.a[1].size = 0x1000;
	struct vfio_region_info_cap_type ct; memset(&ct, 0, sizeof(ct)); ct.type = 0x80008086u; ct.subtype = 1;
	struct hdr h = { .msg_id = 0xabcd, .cmd = 10, .size = 0x12345678, .flags = 0x21, .error = 22 };
	struct dma_map dm = { .argsz = 32, .flags = 3, .offset = 0x1000, .addr = 0xfedcba9876543000ull, .size = 0x200000 };
	struct dma_unmap du = { .argsz = 24, .flags = 2, .addr = 0x10000000, .size = 0x4000 };
	struct region_access ra = { .offset = 0x2818, .region = 0, .count = 4 };
	struct { struct vfio_device_feature f; } df = { { .argsz = 8, .flags = (1u << 16) | 1 } };
	hex("region_info", &ri, sizeof(ri), 0);
	hex("irq_info", &ii, sizeof(ii), 0);
	hex("irq_set", &is, sizeof(struct vfio_irq_set) + 3, 0);
	hex("sparse_body", (char *)&sm + sizeof(struct vfio_info_cap_header), sizeof(sm) - sizeof(struct vfio_info_cap_header), 0);
	hex("type_body", (char *)&ct + sizeof(struct vfio_info_cap_header), sizeof(ct) - sizeof(struct vfio_info_cap_header), 0);
	hex("hdr", &h, sizeof(h), 0);
	hex("dma_map", &dm, sizeof(dm), 0);
	hex("dma_unmap", &du, sizeof(du), 0);
	hex("region_access", &ra, sizeof(ra), 0);
	hex("device_feature", &df, sizeof(df), 1);
	printf("}\n");
	return 0;
}
`;

let dir: string;
let c: Record<string, number | string>;
const num = (k: string): number => c[k] as number;
const hex = (k: string): string => c[k] as string;
const hx = (b: Uint8Array): string => Buffer.from(b).toString('hex');

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vfmed-layout-'));
  writeFileSync(join(dir, 'layout.c'), C);
  execFileSync('gcc', ['-std=gnu11', '-Wall', '-Werror', '-I', join(repoRoot(), 'native/include'), '-o', join(dir, 'layout'), join(dir, 'layout.c')]);
  c = JSON.parse(execFileSync(join(dir, 'layout')).toString()) as Record<string, number | string>;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('protocol.ts against <linux/vfio.h>', () => {
  it('device, region, capability and IRQ numbers', () => {
    expect([p.DeviceFlag.RESET, p.DeviceFlag.PCI]).toEqual([num('VFIO_DEVICE_FLAGS_RESET'), num('VFIO_DEVICE_FLAGS_PCI')]);
    expect([p.RegionFlag.READ, p.RegionFlag.WRITE, p.RegionFlag.MMAP, p.RegionFlag.CAPS]).toEqual(
      ['READ', 'WRITE', 'MMAP', 'CAPS'].map((f) => num(`VFIO_REGION_INFO_FLAG_${f}`)));
    expect([p.RegionCap.SPARSE_MMAP, p.RegionCap.TYPE, p.RegionCap.MSIX_MAPPABLE]).toEqual(
      [num('VFIO_REGION_INFO_CAP_SPARSE_MMAP'), num('VFIO_REGION_INFO_CAP_TYPE'), num('VFIO_REGION_INFO_CAP_MSIX_MAPPABLE')]);
    expect([p.PciRegion.BAR0, p.PciRegion.BAR3, p.PciRegion.ROM, p.PciRegion.CONFIG, p.PciRegion.VGA, p.PciRegion.NUM]).toEqual(
      ['BAR0', 'BAR3', 'ROM', 'CONFIG', 'VGA'].map((r) => num(`VFIO_PCI_${r}_REGION_INDEX`)).concat(num('VFIO_PCI_NUM_REGIONS')));
    expect([p.PciIrq.INTX, p.PciIrq.MSI, p.PciIrq.MSIX, p.PciIrq.ERR, p.PciIrq.REQ, p.PciIrq.NUM]).toEqual(
      ['INTX', 'MSI', 'MSIX', 'ERR', 'REQ'].map((i) => num(`VFIO_PCI_${i}_IRQ_INDEX`)).concat(num('VFIO_PCI_NUM_IRQS')));
    expect([p.IrqInfoFlag.EVENTFD, p.IrqInfoFlag.MASKABLE, p.IrqInfoFlag.AUTOMASKED, p.IrqInfoFlag.NORESIZE]).toEqual(
      ['EVENTFD', 'MASKABLE', 'AUTOMASKED', 'NORESIZE'].map((f) => num(`VFIO_IRQ_INFO_${f}`)));
    for (const f of ['DATA_NONE', 'DATA_BOOL', 'DATA_EVENTFD', 'ACTION_MASK', 'ACTION_UNMASK', 'ACTION_TRIGGER', 'DATA_TYPE_MASK', 'ACTION_TYPE_MASK'] as const) {
      expect(p.IrqSetFlag[f]).toBe(num(`VFIO_IRQ_SET_${f}`));
    }
    expect([p.DmaUnmapFlag.GET_DIRTY_BITMAP, p.DmaUnmapFlag.ALL, p.DmaUnmapFlag.VADDR]).toEqual(
      [num('VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP'), num('VFIO_DMA_UNMAP_FLAG_ALL'), num('VFIO_DMA_UNMAP_FLAG_VADDR')]);
    expect([p.FeatureFlag.MASK, p.FeatureFlag.GET, p.FeatureFlag.SET, p.FeatureFlag.PROBE]).toEqual(
      ['MASK', 'GET', 'SET', 'PROBE'].map((f) => num(`VFIO_DEVICE_FEATURE_${f}`)));
  });

  it('payload sizes', () => {
    expect(p.PayloadSize.REGION_INFO).toBe(num('sizeof(struct vfio_region_info)'));
    expect(p.PayloadSize.IRQ_INFO).toBe(num('sizeof(struct vfio_irq_info)'));
    expect(p.PayloadSize.IRQ_SET).toBe(num('sizeof(struct vfio_irq_set)'));
    expect(p.PayloadSize.SPARSE_MMAP_CAP).toBe(num('sizeof(struct vfio_region_info_cap_sparse_mmap)'));
    expect(p.PayloadSize.SPARSE_MMAP_AREA).toBe(num('sizeof(struct vfio_region_sparse_mmap_area)'));
    expect(p.PayloadSize.TYPE_CAP).toBe(num('sizeof(struct vfio_region_info_cap_type)'));
    expect(p.PayloadSize.DEVICE_FEATURE).toBe(num('sizeof(struct vfio_device_feature)'));
    expect(p.HEADER_SIZE).toBe(num('sizeof(struct hdr)'));
    expect(p.PayloadSize.DMA_MAP).toBe(num('sizeof(struct dma_map)'));
    expect(p.PayloadSize.DMA_UNMAP).toBe(num('sizeof(struct dma_unmap)'));
    expect(p.PayloadSize.REGION_ACCESS).toBe(num('sizeof(struct region_access)'));
    expect(p.PayloadSize.MIG_DATA).toBe(num('sizeof(struct mig_data)'));
  });
});

describe('messages.ts encodes the C layouts byte for byte', () => {
  it('struct vfio_region_info, vfio_irq_info, vfio_irq_set (+ bools), vfio_device_feature', () => {
    expect(hx(m.encodeRegionInfo({ argsz: 0x11223344, flags: 0xf, index: 7, capOffset: 32, size: 0x0102030405060708n, offset: 0x1112131415161718n }))).toBe(hex('region_info'));
    expect(hx(m.encodeIrqInfo({ argsz: 16, flags: 9, index: 2, count: 3 }))).toBe(hex('irq_info'));
    expect(hx(m.encodeIrqSet({ argsz: 23, flags: 0x22, index: 2, start: 1, count: 3, data: Uint8Array.of(1, 0, 1) }))).toBe(hex('irq_set'));
    expect(hx(m.encodeDeviceFeature({ argsz: 8, flags: (1 << 16) | 1, data: new Uint8Array(0) }))).toBe(hex('device_feature'));
  });

  it('sparse mmap and type capability bodies', () => {
    expect(hx(m.encodeSparseMmapBody([{ offset: 0x2000n, size: 0x2000n }, { offset: 0x8000n, size: 0x1000n }]))).toBe(hex('sparse_body'));
    expect(hx(m.encodeTypeCapBody(0x80008086, 1))).toBe(hex('type_body'));
  });

  it('vfio-user header, DMA map/unmap, region access (spec tables)', () => {
    expect(hx(m.frame({ msgId: 0xabcd, command: 10, flags: 0x21, error: 22 }).subarray(0, 4))).toBe(hex('hdr').slice(0, 8));
    const hdr = m.decodeHeader(Buffer.from(hex('hdr'), 'hex'));
    expect(hdr).toEqual({ msgId: 0xabcd, command: 10, size: 0x12345678, flags: 0x21, error: 22 });
    expect(hx(m.encodeDmaMap({ argsz: 32, flags: 3, offset: 0x1000n, addr: 0xfedcba9876543000n, size: 0x200000n }))).toBe(hex('dma_map'));
    expect(m.decodeDmaMap(Buffer.from(hex('dma_map'), 'hex'))).toEqual({ argsz: 32, flags: 3, offset: 0x1000n, addr: 0xfedcba9876543000n, size: 0x200000n });
    expect(hx(m.encodeDmaUnmap({ argsz: 24, flags: 2, addr: 0x10000000n, size: 0x4000n }))).toBe(hex('dma_unmap'));
    expect(hx(m.encodeRegionAccess({ offset: 0x2818n, region: 0, count: 4, data: new Uint8Array(0) }))).toBe(hex('region_access'));
  });
});

describe('pci-config.ts and hw/vf-regs.ts against <linux/pci_regs.h> and vf_regs.h', () => {
  it('PCI register offsets and bits', () => {
    const pairs: Array<[number, string]> = [
      [Pci.COMMAND, 'PCI_COMMAND'], [Pci.STATUS, 'PCI_STATUS'], [Pci.COMMAND_MEMORY, 'PCI_COMMAND_MEMORY'],
      [Pci.COMMAND_MASTER, 'PCI_COMMAND_MASTER'], [Pci.COMMAND_PARITY, 'PCI_COMMAND_PARITY'], [Pci.COMMAND_SERR, 'PCI_COMMAND_SERR'],
      [Pci.COMMAND_INTX_DISABLE, 'PCI_COMMAND_INTX_DISABLE'], [Pci.STATUS_CAP_LIST, 'PCI_STATUS_CAP_LIST'],
      [Pci.BASE_ADDRESS_0, 'PCI_BASE_ADDRESS_0'], [Pci.BASE_ADDRESS_MEM_TYPE_64, 'PCI_BASE_ADDRESS_MEM_TYPE_64'],
      [Pci.BASE_ADDRESS_MEM_PREFETCH, 'PCI_BASE_ADDRESS_MEM_PREFETCH'], [Pci.SUBSYSTEM_VENDOR_ID, 'PCI_SUBSYSTEM_VENDOR_ID'],
      [Pci.ROM_ADDRESS, 'PCI_ROM_ADDRESS'], [Pci.CAPABILITY_LIST, 'PCI_CAPABILITY_LIST'], [Pci.INTERRUPT_LINE, 'PCI_INTERRUPT_LINE'],
      [Pci.INTERRUPT_PIN, 'PCI_INTERRUPT_PIN'], [Pci.CAP_ID_MSIX, 'PCI_CAP_ID_MSIX'], [Pci.CAP_ID_EXP, 'PCI_CAP_ID_EXP'],
      [Pci.MSIX_FLAGS, 'PCI_MSIX_FLAGS'], [Pci.MSIX_TABLE, 'PCI_MSIX_TABLE'], [Pci.MSIX_PBA, 'PCI_MSIX_PBA'],
      [Pci.MSIX_FLAGS_ENABLE, 'PCI_MSIX_FLAGS_ENABLE'], [Pci.MSIX_FLAGS_MASKALL, 'PCI_MSIX_FLAGS_MASKALL'],
      [Pci.MSIX_CAP_SIZE, 'PCI_CAP_MSIX_SIZEOF'], [Pci.EXP_FLAGS, 'PCI_EXP_FLAGS'], [Pci.EXP_DEVCAP, 'PCI_EXP_DEVCAP'],
      [Pci.EXP_DEVCTL, 'PCI_EXP_DEVCTL'], [Pci.EXP_DEVSTA, 'PCI_EXP_DEVSTA'], [Pci.EXP_LNKCAP, 'PCI_EXP_LNKCAP'],
      [Pci.EXP_LNKCTL, 'PCI_EXP_LNKCTL'], [Pci.EXP_LNKSTA, 'PCI_EXP_LNKSTA'], [Pci.EXP_DEVCAP2, 'PCI_EXP_DEVCAP2'],
      [Pci.EXP_DEVCTL2, 'PCI_EXP_DEVCTL2'], [Pci.EXP_LNKCAP2, 'PCI_EXP_LNKCAP2'], [Pci.EXP_LNKCTL2, 'PCI_EXP_LNKCTL2'],
      [Pci.EXP_CAP_SIZE_V2, 'PCI_CAP_EXP_ENDPOINT_SIZEOF_V2'], [Pci.EXP_DEVCAP_FLR, 'PCI_EXP_DEVCAP_FLR'],
      [Pci.EXP_DEVCTL_BCR_FLR, 'PCI_EXP_DEVCTL_BCR_FLR'], [Pci.CFG_SPACE_SIZE, 'PCI_CFG_SPACE_SIZE'],
      [Pci.CFG_SPACE_EXP_SIZE, 'PCI_CFG_SPACE_EXP_SIZE'],
    ];
    for (const [ts, name] of pairs) expect([name, ts]).toEqual([name, num(name)]);
  });

  it('every export of mediator/hw/vf-regs.ts equals its vf_regs.h counterpart', () => {
    let checked = 0;
    for (const [k, v] of regExports) {
      const hit = cNames(k).find((n) => (typeof v === 'function' ? `${n}(0)` : n) in c);
      expect(hit, `${k} has no counterpart in vf_regs.h`).toBeDefined();
      const idx = typeof v === 'function' ? (INDEXES[k] ?? [0, 1]) : [undefined];
      for (const i of idx) {
        const ts = typeof v === 'function' ? (v as (n: number) => number)(i!) : v;
        const key = typeof v === 'function' ? `${hit}(${i})` : hit!;
        expect([key, ts]).toEqual([key, num(key)]);
        checked++;
      }
    }
    for (const [q, code] of Object.entries(regs.QERR)) expect([q, code]).toEqual([q, num(`VFMED_QERR_${q}`)]);
    expect(checked).toBeGreaterThan(100);
  });
});
