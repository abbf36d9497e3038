/**
 * The device-state stream of one VF, source and destination side, independent of how it is
 * carried (vfio-user MIG_DATA_READ/WRITE, the v1 migration region, or a test).
 *
 * Source: entering PRE_COPY makes the *initial data* readable — stream header, the device
 * descriptor (model + configuration parameters) and the VF configuration — so the
 * destination can refuse an incompatible device while the source still runs. After that a
 * PRE_COPY read has "no more for now" (the uAPI's ENOMSG), which is not the end of the
 * stream. STOP_COPY pulls the VF state from the PF (quiesce, save) and appends it and the
 * end marker; reads then drain the stream and finally return END (a 0-byte read).
 *
 * Destination: bytes are validated as they arrive (StreamReader); the descriptor is checked
 * against what this destination can instantiate as soon as it is complete. Nothing touches
 * the destination VF until finish(), which hands the PF the saved state; any refusal there
 * is an ArcRefusedError, so RESUMING -> STOP fails with the VF untouched.
 */
import { ArcRefusedError } from './fsm-runner.js';
import {
  checkCompatible, decodeDescriptor, encodeDescriptor, type DestinationCapabilities, type DeviceDescriptor,
} from './device-model.js';
import { SECTION_HEADER_BYTES, StreamReader, StreamWriter, SECTION_OPTIONAL } from './section-stream.js';
import { VfmedError } from '../errors.js';

export const DEVICE_STREAM_KIND = 1;
export const DEVICE_STREAM_VERSION = { major: 1, minor: 0 } as const;
export const DeviceSection = {
  /** JSON device descriptor: model id, version, configuration parameters. Always first. */
  DESCRIPTOR: 1,
  /** JSON VF configuration (MAC, ...): informational, optional. */
  CONFIG: 2,
  /** The PF's VF state blob (pf_regs.h vfpf_state_hdr + sections). */
  VF_STATE: 3,
} as const;

/** What the stream needs from the VF; the VF mediate driver implements it over the PF. */
export interface VfStateAccess {
  descriptor(): DeviceDescriptor;
  config(): Record<string, unknown>;
  /** Upper bound of the state blob size, for the stop-copy estimate. */
  stateSizeEstimate(): number;
  /** Quiesce the VF and save its state through the PF (STOP_COPY). */
  saveState(): Buffer;
  /** Load a blob into the (stopped) destination VF through the PF; throws if refused. */
  loadState(blob: Buffer): void;
  /** What this VF can be on the destination side. */
  capabilities(): DestinationCapabilities;
}

export const NO_MORE_FOR_NOW = Symbol('ENOMSG');
export const END_OF_STREAM = Symbol('EOF');
export type ReadResult = Buffer | typeof NO_MORE_FOR_NOW | typeof END_OF_STREAM;

type SourcePhase = 'idle' | 'precopy' | 'stopcopy' | 'done';

export class DeviceStateSource {
  #phase: SourcePhase = 'idle';
  #writer: StreamWriter | undefined;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #initialLeft = 0;

  constructor(private readonly vf: VfStateAccess) {}

  get phase(): SourcePhase {
    return this.#phase;
  }

  /** RUNNING -> PRE_COPY: the initial data becomes readable. */
  startPreCopy(): void {
    if (this.#phase !== 'idle') throw new VfmedError('VFMED_ERR_MIG_STATE', `pre-copy cannot start in phase ${this.#phase}`);
    this.#openStream();
    this.#phase = 'precopy';
    this.#initialLeft = this.#pendingBytes;
  }

  /** VFIO_MIG_GET_PRECOPY_INFO: initial bytes not yet read; our device has no dirty state
   * before STOP_COPY (its state is saved whole), so dirty_bytes is always 0. */
  precopyInfo(): { initialBytes: number; dirtyBytes: number } {
    if (this.#phase !== 'precopy') throw new VfmedError('VFMED_ERR_MIG_STATE', 'PRECOPY_INFO outside PRE_COPY');
    return { initialBytes: this.#initialLeft, dirtyBytes: 0 };
  }

  /** -> STOP_COPY: quiesce + save through the PF; the rest of the stream becomes readable. */
  startStopCopy(): void {
    if (this.#phase === 'stopcopy' || this.#phase === 'done') throw new VfmedError('VFMED_ERR_MIG_STATE', 'stop-copy already started');
    if (this.#phase === 'idle') this.#openStream();
    const blob = this.vf.saveState();
    this.#queue(this.#writer!.section(DeviceSection.VF_STATE, blob));
    this.#queue(this.#writer!.end());
    this.#phase = 'stopcopy';
  }

  /** MIG_DATA_SIZE: bytes STOP_COPY will still produce. */
  stopCopySize(): number {
    const framing = SECTION_HEADER_BYTES * 2 + 8;
    if (this.#phase === 'stopcopy' || this.#phase === 'done') return this.#pendingBytes;
    return this.#pendingBytes + this.vf.stateSizeEstimate() + framing + (this.#phase === 'idle' ? 1024 : 0);
  }

  /** The stop-copy stream was read to its end (the whole saved state left). */
  get drained(): boolean {
    return this.#phase === 'done' || (this.#phase === 'stopcopy' && this.#pendingBytes === 0);
  }

  read(max: number): ReadResult {
    if (!Number.isInteger(max) || max <= 0) throw new RangeError(`read size ${max}`);
    if (this.#phase === 'idle') throw new VfmedError('VFMED_ERR_MIG_STATE', 'no migration data outside PRE_COPY/STOP_COPY');
    if (this.#pendingBytes === 0) {
      if (this.#phase === 'precopy') return NO_MORE_FOR_NOW;
      this.#phase = 'done';
      return END_OF_STREAM;
    }
    const parts: Buffer[] = [];
    let got = 0;
    while (got < max && this.#pending.length) {
      const head = this.#pending[0]!;
      const take = Math.min(head.length, max - got);
      parts.push(head.subarray(0, take));
      got += take;
      if (take === head.length) this.#pending.shift();
      else this.#pending[0] = head.subarray(take);
    }
    this.#pendingBytes -= got;
    if (this.#phase === 'precopy') this.#initialLeft = Math.max(0, this.#initialLeft - got);
    return Buffer.concat(parts);
  }

  #openStream(): void {
    this.#writer = new StreamWriter({ ...DEVICE_STREAM_VERSION, kind: DEVICE_STREAM_KIND, flags: 0 });
    this.#queue(this.#writer.header);
    this.#queue(this.#writer.section(DeviceSection.DESCRIPTOR, encodeDescriptor(this.vf.descriptor())));
    this.#queue(this.#writer.section(DeviceSection.CONFIG, Buffer.from(JSON.stringify(this.vf.config())), SECTION_OPTIONAL));
  }

  #queue(b: Buffer): void {
    this.#pending.push(b);
    this.#pendingBytes += b.length;
  }
}

/** Destination side: feed MIG_DATA_WRITE payloads, then finish() on RESUMING -> STOP. */
export class DeviceStateSink {
  #reader = new StreamReader({
    kind: DEVICE_STREAM_KIND,
    major: DEVICE_STREAM_VERSION.major,
    knownTypes: new Set<number>(Object.values(DeviceSection)),
  });
  #descriptor: DeviceDescriptor | undefined;
  #state: Buffer | undefined;
  #failed: VfmedError | undefined;
  #bytes = 0;

  constructor(private readonly vf: VfStateAccess) {}

  /** The source's descriptor, once it arrived and passed the compatibility check. */
  get descriptor(): DeviceDescriptor | undefined {
    return this.#descriptor;
  }

  get bytesReceived(): number {
    return this.#bytes;
  }

  /** Validates as data arrives; the first error is sticky (later writes fail the same way). */
  write(chunk: Uint8Array): void {
    if (this.#failed) throw this.#failed;
    try {
      this.#bytes += chunk.length;
      for (const s of this.#reader.push(chunk)) this.#accept(s.type, s.payload);
    } catch (e) {
      this.#failed = e instanceof VfmedError ? e : new VfmedError('VFMED_ERR_STREAM_CORRUPT', String(e), 74);
      throw this.#failed;
    }
  }

  /** RESUMING -> STOP: the whole stream must be there; then the PF loads it. */
  finish(): void {
    const refuse = (e: VfmedError) => new ArcRefusedError(e.code, e.message, e.errno);
    if (this.#failed) throw refuse(this.#failed);
    try {
      this.#reader.end();
    } catch (e) {
      throw refuse(e as VfmedError);
    }
    if (!this.#state) throw new ArcRefusedError('VFMED_ERR_STREAM_CORRUPT', 'device stream has no VF state section', 74);
    try {
      this.vf.loadState(this.#state);
    } catch (e) {
      const err = e as { code?: string; errno?: number; message?: string };
      throw new ArcRefusedError('VFMED_ERR_LOAD_REFUSED', `the PF refused the VF state: ${err.message ?? String(e)}`, err.errno ?? 74);
    }
  }

  #accept(type: number, payload: Buffer): void {
    if (type === DeviceSection.DESCRIPTOR) {
      if (this.#descriptor) throw new VfmedError('VFMED_ERR_STREAM_CORRUPT', 'second device descriptor in one stream', 74);
      const d = decodeDescriptor(payload);
      checkCompatible(d, this.vf.capabilities());
      this.#descriptor = d;
      return;
    }
    if (!this.#descriptor) throw new VfmedError('VFMED_ERR_STREAM_CORRUPT', 'device stream does not start with its descriptor', 74);
    if (type === DeviceSection.VF_STATE) {
      if (this.#state) throw new VfmedError('VFMED_ERR_STREAM_CORRUPT', 'second VF state section in one stream', 74);
      this.#state = payload;
    }
  }
}
