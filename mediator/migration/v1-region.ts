/**
 * The v1 migration region of the original mediate-ops / VFIO migration proposal, served over
 * the same VfMigrationController as v2, so a v1-era client migrates the same device state.
 *
 *   offset  field           access
 *   0x00    device_state    u32 RW   bit 0 RUNNING, bit 1 SAVING, bit 2 RESUMING
 *   0x04    reserved        u32 RO
 *   0x08    pending_bytes   u64 RO   saving: bytes still to come (0: none now / done)
 *   0x10    data_offset     u64 RO   saving: reading it stages the next chunk
 *   0x18    data_size       u64 RW   saving: staged bytes; resuming: write = bytes written
 *   0x1000  data area       DATA_AREA_BYTES
 *
 * Valid device_state values and the v2 state each one is: 0 STOP, 1 RUNNING,
 * 3 SAVING|RUNNING = PRE_COPY, 2 SAVING = STOP_COPY, 4 RESUMING. Others are EINVAL; an
 * ERROR device reads back SAVING|RESUMING (6). P2P states, which v1 never had, read as
 * their non-P2P counterparts.
 */
import { VfmedError } from '../errors.js';
import { MigState } from './fsm.js';
import type { VfMigrationController } from './vf-migration.js';

export const V1 = { STOP: 0, RUNNING: 1, SAVING: 2, RESUMING: 4 } as const;
export const V1_OFF = { DEVICE_STATE: 0x00, RESERVED: 0x04, PENDING: 0x08, DATA_OFFSET: 0x10, DATA_SIZE: 0x18 } as const;
export const V1_DATA_OFFSET = 0x1000;
export const DATA_AREA_BYTES = 0x10000;
export const V1_REGION_SIZE = V1_DATA_OFFSET + DATA_AREA_BYTES;

const EINVAL = 22;
const bad = (msg: string) => new VfmedError('VFMED_ERR_V1_REGION', msg, EINVAL);

const FROM_V1 = new Map<number, MigState>([
  [V1.STOP, MigState.STOP],
  [V1.RUNNING, MigState.RUNNING],
  [V1.SAVING | V1.RUNNING, MigState.PRE_COPY],
  [V1.SAVING, MigState.STOP_COPY],
  [V1.RESUMING, MigState.RESUMING],
]);

function toV1(s: MigState): number {
  switch (s) {
    case MigState.STOP: return V1.STOP;
    case MigState.RUNNING: case MigState.RUNNING_P2P: return V1.RUNNING;
    case MigState.PRE_COPY: case MigState.PRE_COPY_P2P: return V1.SAVING | V1.RUNNING;
    case MigState.STOP_COPY: return V1.SAVING;
    case MigState.RESUMING: return V1.RESUMING;
    default: return V1.SAVING | V1.RESUMING;
  }
}

export class V1MigrationRegion {
  #data = Buffer.alloc(DATA_AREA_BYTES);
  #staged = 0;

  constructor(private readonly mig: VfMigrationController) {}

  async read(offset: number, size: number): Promise<Buffer> {
    this.#checkBounds(offset, size);
    if (offset >= V1_DATA_OFFSET) {
      const start = offset - V1_DATA_OFFSET;
      return Buffer.from(this.#data.subarray(start, start + size));
    }
    const out = Buffer.alloc(size);
    switch (offset) {
      case V1_OFF.DEVICE_STATE: this.#field(offset, size, 4); out.writeUInt32LE(toV1(this.mig.state)); break;
      case V1_OFF.RESERVED: this.#field(offset, size, 4); break;
      case V1_OFF.PENDING: this.#field(offset, size, 8); out.writeBigUInt64LE(BigInt(this.#pending())); break;
      case V1_OFF.DATA_OFFSET: this.#field(offset, size, 8); this.#stage(); out.writeBigUInt64LE(BigInt(V1_DATA_OFFSET)); break;
      case V1_OFF.DATA_SIZE: this.#field(offset, size, 8); out.writeBigUInt64LE(BigInt(this.#saving() ? this.#staged : 0)); break;
      default: throw bad(`v1 migration region: no field at 0x${offset.toString(16)}`);
    }
    return out;
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    const buf = Buffer.from(data);
    this.#checkBounds(offset, buf.length);
    if (offset >= V1_DATA_OFFSET) {
      if (this.mig.state !== MigState.RESUMING) throw bad('the data area is writable only while RESUMING');
      buf.copy(this.#data, offset - V1_DATA_OFFSET);
      return;
    }
    if (offset === V1_OFF.DEVICE_STATE) {
      this.#field(offset, buf.length, 4);
      const v = buf.readUInt32LE(0);
      const target = FROM_V1.get(v);
      if (target === undefined) throw bad(`invalid v1 device_state 0x${v.toString(16)}`);
      this.#staged = 0;
      await this.mig.setState(target);
      return;
    }
    if (offset === V1_OFF.DATA_SIZE) {
      this.#field(offset, buf.length, 8);
      if (this.mig.state !== MigState.RESUMING) throw bad('data_size is written only while RESUMING');
      const n = buf.readBigUInt64LE(0);
      if (n > BigInt(DATA_AREA_BYTES)) throw bad(`data_size ${n} exceeds the ${DATA_AREA_BYTES}-byte data area`);
      this.mig.write(this.#data.subarray(0, Number(n)));
      return;
    }
    throw bad(`v1 migration region: field at 0x${offset.toString(16)} is read-only`);
  }

  #saving(): boolean {
    const s = this.mig.state;
    return s === MigState.PRE_COPY || s === MigState.PRE_COPY_P2P || s === MigState.STOP_COPY;
  }

  #pending(): number {
    if (!this.#saving()) return 0;
    if (this.mig.state === MigState.STOP_COPY) return this.mig.stopCopySize();
    return this.mig.precopyInfo().initialBytes;
  }

  /** Reading data_offset in a saving state moves the next chunk into the data area. */
  #stage(): void {
    if (!this.#saving()) return;
    const r = this.mig.read(DATA_AREA_BYTES);
    this.#staged = typeof r === 'symbol' ? 0 : r.copy(this.#data, 0);
  }

  #field(offset: number, size: number, want: number): void {
    if (size !== want) throw bad(`field at 0x${offset.toString(16)} is ${want} bytes, accessed with ${size}`);
  }

  #checkBounds(offset: number, size: number): void {
    if (!Number.isInteger(offset) || !Number.isInteger(size) || offset < 0 || size <= 0 || offset + size > V1_REGION_SIZE) {
      throw bad(`access [0x${offset.toString(16)}, +${size}) outside the ${V1_REGION_SIZE}-byte migration region`);
    }
    if (offset < V1_DATA_OFFSET && offset + size > 0x20) throw bad(`access [0x${offset.toString(16)}, +${size}) outside the header fields`);
  }
}
