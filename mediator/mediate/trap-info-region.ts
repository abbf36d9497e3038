/**
 * The dynamic trap-BAR info region (device-specific region 10, vfmed-ext.ts): what the BAR0
 * layout generation is, which pages it traps, and where the client acknowledges that it has
 * applied a layout. Reads and writes are single aligned dwords.
 */
import { constants } from 'node:os';
import { VfmedError } from '../errors.js';
import type { RegionDesc } from '../vfio/device.js';
import { encodeTypeCapBody } from '../vfio/messages.js';
import { RegionCap, RegionFlag, TYPE_CAP_VERSION } from '../vfio/protocol.js';
import type { BarTrapController } from './trap-control.js';
import { REGION_TYPE_VENDOR_INTEL, TRAP_INFO, TRAP_INFO_VERSION, VFMED_REGION_SUBTYPE_TRAP_BAR_INFO, VFMED_REGION_TRAP_INFO } from './vfmed-ext.js';

const { EINVAL } = constants.errno;
const bad = (msg: string) => new VfmedError('VFMED_ERR_TRAP_INFO', msg, EINVAL);

export const TRAP_INFO_REGION: RegionDesc = {
  index: VFMED_REGION_TRAP_INFO,
  size: BigInt(TRAP_INFO.SIZE),
  flags: RegionFlag.READ | RegionFlag.WRITE,
  mmap: null,
  caps: [{ id: RegionCap.TYPE, version: TYPE_CAP_VERSION, body: encodeTypeCapBody(REGION_TYPE_VENDOR_INTEL, VFMED_REGION_SUBTYPE_TRAP_BAR_INFO) }],
};

function dword(offset: bigint, size: number): number {
  if (size !== 4 || offset % 4n !== 0n || offset + 4n > BigInt(TRAP_INFO.SIZE)) {
    throw bad(`trap-BAR info region: access of ${size} bytes at 0x${offset.toString(16)} (aligned dwords only)`);
  }
  return Number(offset);
}

export function readTrapInfo(traps: BarTrapController, offset: bigint, size: number): Uint8Array {
  const off = dword(offset, size);
  let v = 0;
  switch (off) {
    case TRAP_INFO.VERSION: v = TRAP_INFO_VERSION; break;
    case TRAP_INFO.GENERATION: v = traps.generation; break;
    case TRAP_INFO.TRAPPED_PAGES: v = traps.trappedPages; break;
    case TRAP_INFO.APPLIED: v = traps.applied; break;
    case TRAP_INFO.TRAP_REQUESTS: v = traps.trapRequests; break;
    default: v = 0;
  }
  const out = Buffer.alloc(4);
  out.writeUInt32LE(v >>> 0);
  return out;
}

export function writeTrapInfo(traps: BarTrapController, offset: bigint, data: Uint8Array): void {
  const off = dword(offset, data.byteLength);
  if (off !== TRAP_INFO.APPLIED) throw bad(`trap-BAR info region: field at 0x${off.toString(16)} is read-only`);
  traps.ack(Buffer.from(data.buffer, data.byteOffset, 4).readUInt32LE(0));
}
