// The vfmed extension numbers exist twice: mediator/mediate/vfmed-ext.ts (server) and
// native/guest/vfio-user-proto.h (the guest runner). A small C program built against the
// guest's header (which itself asserts the uAPI numbers against <linux/vfio.h>) prints
// them; they must be the server's, and the uAPI feature ids must be <linux/vfio.h>'s.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../mediator/native/addon.js';
import * as x from '../../mediator/mediate/vfmed-ext.js';
import { V1_OFF, V1_DATA_OFFSET, V1 } from '../../mediator/migration/v1-region.js';
import { MigState } from '../../mediator/migration/fsm.js';

const PROGRAM = `
#include <stdio.h>
#include <linux/vfio.h>
#include "vfio-user-proto.h"
int main(void) {
  printf("{");
  printf("\\"trapType\\":%u,\\"trapSubtype\\":%u,\\"migType\\":%u,\\"migSubtype\\":%u,", VFMED_REGION_TYPE_VENDOR_INTEL,
         VFMED_REGION_SUBTYPE_TRAP_INFO, VFU_REGION_TYPE_MIGRATION_V1, VFU_REGION_SUBTYPE_MIGRATION_V1);
  printf("\\"layoutIrq\\":%u,\\"precopyInfo\\":%u,", VFMED_IRQ_INDEX_BAR_LAYOUT, VFMED_FEATURE_PRECOPY_INFO);
  printf("\\"tiGeneration\\":%u,\\"tiTrapped\\":%u,\\"tiApplied\\":%u,\\"tiVersion\\":%u,", VFMED_TRAP_INFO_GENERATION,
         VFMED_TRAP_INFO_TRAPPED_PAGES, VFMED_TRAP_INFO_APPLIED, VFMED_TRAP_INFO_VERSION);
  printf("\\"v1State\\":%u,\\"v1Pending\\":%u,\\"v1Offset\\":%u,\\"v1Size\\":%u,\\"v1Saving\\":%u,\\"v1Resuming\\":%u,\\"v1Running\\":%u,",
         VFU_MIG_V1_DEVICE_STATE, VFU_MIG_V1_PENDING_BYTES, VFU_MIG_V1_DATA_OFFSET, VFU_MIG_V1_DATA_SIZE,
         VFU_MIG_V1_SAVING, VFU_MIG_V1_RESUMING, VFU_MIG_V1_RUNNING);
  printf("\\"fMigration\\":%u,\\"fState\\":%u,\\"fLogStart\\":%u,\\"fLogStop\\":%u,\\"fLogReport\\":%u,", VFIO_DEVICE_FEATURE_MIGRATION,
         VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, VFIO_DEVICE_FEATURE_DMA_LOGGING_START, VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP,
         VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT);
  printf("\\"guestMigDataSize\\":%u,\\"preCopy\\":%u,\\"preCopyP2p\\":%u,\\"vendorType\\":%u", VFU_FEATURE_MIG_DATA_SIZE,
         VFU_MIG_PRE_COPY, VFU_MIG_PRE_COPY_P2P, (unsigned)(VFIO_REGION_TYPE_PCI_VENDOR_TYPE | 0x8086));
  printf("}\\n");
  return 0;
}
`;

let dir: string;
let c: Record<string, number>;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vfmed-ext-'));
  writeFileSync(join(dir, 'ext.c'), PROGRAM);
  execFileSync('gcc', ['-std=gnu11', '-Wall', '-Werror', '-I', join(repoRoot(), 'native/include'), '-I', join(repoRoot(), 'native/guest'),
    '-o', join(dir, 'ext'), join(dir, 'ext.c')]);
  c = JSON.parse(execFileSync(join(dir, 'ext')).toString()) as Record<string, number>;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('vfmed extension numbers: server and guest agree, uAPI numbers are the kernel\'s', () => {
  it('region types, IRQ index, the trap-BAR info region and the PRECOPY_INFO feature', () => {
    expect(c['trapType']).toBe(x.REGION_TYPE_VENDOR_INTEL);
    expect(c['vendorType']).toBe(x.REGION_TYPE_VENDOR_INTEL);
    expect(c['trapSubtype']).toBe(x.VFMED_REGION_SUBTYPE_TRAP_BAR_INFO);
    expect([c['migType'], c['migSubtype']]).toEqual([x.REGION_TYPE_MIGRATION_V1, x.REGION_SUBTYPE_MIGRATION_V1]);
    expect(c['layoutIrq']).toBe(x.VFMED_IRQ_BAR_LAYOUT);
    expect(c['precopyInfo']).toBe(x.Feature.VFMED_PRECOPY_INFO);
    expect([c['tiVersion'], c['tiGeneration'], c['tiTrapped'], c['tiApplied']])
      .toEqual([x.TRAP_INFO.VERSION, x.TRAP_INFO.GENERATION, x.TRAP_INFO.TRAPPED_PAGES, x.TRAP_INFO.APPLIED]);
  });

  it('the v1 migration region layout', () => {
    expect([c['v1State'], c['v1Pending'], c['v1Offset'], c['v1Size']])
      .toEqual([V1_OFF.DEVICE_STATE, V1_OFF.PENDING, V1_OFF.DATA_OFFSET, V1_OFF.DATA_SIZE]);
    expect([c['v1Running'], c['v1Saving'], c['v1Resuming']]).toEqual([V1.RUNNING, V1.SAVING, V1.RESUMING]);
    expect(V1_DATA_OFFSET).toBe(0x1000);
  });

  it('DEVICE_FEATURE ids and migration states of <linux/vfio.h>', () => {
    expect([c['fMigration'], c['fState'], c['fLogStart'], c['fLogStop'], c['fLogReport']]).toEqual([
      x.Feature.MIGRATION, x.Feature.MIG_DEVICE_STATE, x.Feature.DMA_LOGGING_START, x.Feature.DMA_LOGGING_STOP,
      x.Feature.DMA_LOGGING_REPORT]);
    // MIG_DATA_SIZE (9) and the PRE_COPY states postdate Debian 12's headers: compared with
    // the guest's copy, which cites the kernel's value.
    expect(c['guestMigDataSize']).toBe(x.Feature.MIG_DATA_SIZE);
    expect([c['preCopy'], c['preCopyP2p']]).toEqual([MigState.PRE_COPY, MigState.PRE_COPY_P2P]);
  });
});
