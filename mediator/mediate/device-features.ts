/**
 * DEVICE_FEATURE for a mediated VF: the migration features of <linux/vfio.h> (MIGRATION,
 * MIG_DEVICE_STATE, MIG_DATA_SIZE), the DMA logging features, and vfmed's PRECOPY_INFO
 * feature (vfmed-ext.ts), with the kernel's vfio_check_feature() rules:
 *
 *   - GET/SET outside what the feature supports: EINVAL;
 *   - PROBE (with or without GET/SET): success, nothing done, request echoed;
 *   - neither GET nor SET without PROBE: EINVAL;
 *   - argsz (header included) below 8 + the feature's struct: EINVAL; for GET, argsz is the
 *     largest reply the client accepts, so it must also hold the reply (as libvfio-user).
 *
 *   feature               ops   data (SET request / GET reply)
 *   1  MIGRATION          GET   u64 flags = STOP_COPY | P2P | PRE_COPY
 *   2  MIG_DEVICE_STATE   G/S   u32 device_state, u32 data_fd (unused in vfio-user: -1)
 *   6  DMA_LOGGING_START  SET   see dma-logging.ts
 *   7  DMA_LOGGING_STOP   SET   none
 *   8  DMA_LOGGING_REPORT GET   see dma-logging.ts
 *   9  MIG_DATA_SIZE      GET   u64 stop_copy_length
 *   0xf001 PRECOPY_INFO   GET   u64 initial_bytes, u64 dirty_bytes (PRE_COPY states only)
 *   0xf002 DIRTY_TRACKER  G/S   u32 mode: 0 tail-trap, 1 device-log, 2 all; SET: EBUSY
 *                               while DMA logging runs, EINVAL for another value
 *   0xf003 LAST_ERROR     GET   UTF-8 text of this open's last failed migration operation
 *                               (empty if none), cut to what argsz leaves room for
 *
 * Any other feature index is not ours (the device answers ENOTTY).
 */
import { constants } from 'node:os';
import { VfmedError } from '../errors.js';
import { FeatureFlag } from '../vfio/protocol.js';
import { PASSTHROUGH, type Passthrough } from '../vfio/mediate-ops.js';
import type { VfMigrationController } from '../migration/vf-migration.js';
import { MigState } from '../migration/fsm.js';
import { decodeLoggingControl, decodeLoggingReport, reportBitmapBytes, type DmaLogging } from './dma-logging.js';
import type { TrackerMode } from './dirty-tracker.js';
import { DirtyTrackerMode, Feature } from './vfmed-ext.js';

const { EINVAL } = constants.errno;
const HEADER = 8;
const bad = (msg: string) => new VfmedError('VFMED_ERR_VFIO_FEATURE', msg, EINVAL);

const GET = FeatureFlag.GET, SET = FeatureFlag.SET, PROBE = FeatureFlag.PROBE;

interface FeatureSpec {
  ops: number;
  /** Bytes of the feature's struct (request data for SET, reply data for GET). */
  minsz: number;
}

const SPECS = new Map<number, FeatureSpec>([
  [Feature.MIGRATION, { ops: GET, minsz: 8 }],
  [Feature.MIG_DEVICE_STATE, { ops: GET | SET, minsz: 8 }],
  [Feature.DMA_LOGGING_START, { ops: SET, minsz: 16 }],
  [Feature.DMA_LOGGING_STOP, { ops: SET, minsz: 0 }],
  [Feature.DMA_LOGGING_REPORT, { ops: GET, minsz: 24 }],
  [Feature.MIG_DATA_SIZE, { ops: GET, minsz: 8 }],
  [Feature.VFMED_PRECOPY_INFO, { ops: GET, minsz: 16 }],
  [Feature.VFMED_DIRTY_TRACKER, { ops: GET | SET, minsz: 4 }],
  [Feature.VFMED_LAST_ERROR, { ops: GET, minsz: 0 }],
]);

/** VFMED_DIRTY_TRACKER values <-> tracker modes. */
const MODE_OF = new Map<number, TrackerMode>([
  [DirtyTrackerMode.TAIL_TRAP, 'tail-trap'],
  [DirtyTrackerMode.DEVICE_LOG, 'device-log'],
  [DirtyTrackerMode.ALL, 'all'],
]);
const VALUE_OF = new Map<TrackerMode, number>([...MODE_OF].map(([v, m]) => [m, v]));

/** The tracker selection of one open (the handle implements it). */
export interface TrackerSelection {
  get(): TrackerMode;
  /** EBUSY while DMA logging runs. */
  set(mode: TrackerMode): void;
}

/** vfio_check_feature(): 'probe' (answer success, do nothing) or 'run'. */
export function checkFeature(flags: number, argsz: number | undefined, spec: FeatureSpec): 'probe' | 'run' {
  const ops = flags & (GET | SET);
  if (ops & ~spec.ops) throw bad(`feature ${flags & FeatureFlag.MASK} does not support ${ops & GET ? 'GET' : 'SET'}`);
  if (flags & PROBE) return 'probe';
  if (!ops) throw bad('DEVICE_FEATURE without GET, SET or PROBE');
  if (argsz !== undefined && argsz < HEADER + spec.minsz) throw bad(`DEVICE_FEATURE argsz ${argsz} < ${HEADER + spec.minsz}`);
  return 'run';
}

function u64(v: bigint | number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(v));
  return b;
}

export class VfDeviceFeatures {
  constructor(
    private readonly mig: VfMigrationController,
    private readonly logging: DmaLogging,
    private readonly tracker: TrackerSelection,
    /** The last migration failure of this open, as text ('' when none). */
    private readonly lastError: () => string = () => '',
  ) {}

  handle(flags: number, data: Uint8Array, argsz: number | undefined): Promise<Uint8Array | void> | Uint8Array | void | Passthrough {
    const id = flags & FeatureFlag.MASK;
    const spec = SPECS.get(id);
    if (!spec) return PASSTHROUGH;
    if (checkFeature(flags, argsz, spec) === 'probe') return;
    const set = (flags & SET) !== 0;
    if (set && data.byteLength < spec.minsz) throw bad(`feature ${id}: ${data.byteLength} data bytes, need ${spec.minsz}`);
    const fits = (reply: number) => {
      if (argsz !== undefined && argsz < HEADER + reply) throw bad(`DEVICE_FEATURE GET: argsz ${argsz} cannot hold the ${HEADER + reply}-byte reply`);
    };
    switch (id) {
      case Feature.MIGRATION:
        return u64(this.mig.fsm.flags);
      case Feature.MIG_DEVICE_STATE: {
        if (!set) {
          const out = Buffer.alloc(8);
          out.writeUInt32LE(this.mig.state, 0);
          out.writeInt32LE(-1, 4);
          return out;
        }
        const target = Buffer.from(data.buffer, data.byteOffset, data.byteLength).readUInt32LE(0);
        return this.mig.setState(target).then(() => undefined);
      }
      case Feature.MIG_DATA_SIZE:
        return u64(this.mig.stopCopySize());
      case Feature.VFMED_PRECOPY_INFO: {
        if (this.mig.state !== MigState.PRE_COPY && this.mig.state !== MigState.PRE_COPY_P2P) {
          throw bad(`PRECOPY_INFO is only valid in PRE_COPY/PRE_COPY_P2P, not ${MigState[this.mig.state]}`);
        }
        const { initialBytes, dirtyBytes } = this.mig.precopyInfo();
        return Buffer.concat([u64(initialBytes), u64(dirtyBytes)]);
      }
      case Feature.VFMED_DIRTY_TRACKER: {
        if (!set) {
          const out = Buffer.alloc(4);
          out.writeUInt32LE(VALUE_OF.get(this.tracker.get())!, 0);
          return out;
        }
        const v = Buffer.from(data.buffer, data.byteOffset, data.byteLength).readUInt32LE(0);
        const mode = MODE_OF.get(v);
        if (mode === undefined) throw bad(`VFMED_DIRTY_TRACKER: unknown mode ${v} (0 tail-trap, 1 device-log, 2 all)`);
        this.tracker.set(mode);
        return;
      }
      case Feature.VFMED_LAST_ERROR: {
        const text = Buffer.from(this.lastError(), 'utf8');
        const room = argsz === undefined ? text.length : Math.max(0, argsz - HEADER);
        return text.subarray(0, Math.min(text.length, room, 4096));
      }
      case Feature.DMA_LOGGING_START:
        return this.logging.start(decodeLoggingControl(data));
      case Feature.DMA_LOGGING_STOP:
        this.logging.stop();
        return;
      case Feature.DMA_LOGGING_REPORT: {
        const r = decodeLoggingReport(data);
        fits(24 + reportBitmapBytes(r.length, r.pageSize));
        return Buffer.concat([Buffer.from(data), this.logging.report(r)]);
      }
      default:
        return PASSTHROUGH;
    }
  }
}
