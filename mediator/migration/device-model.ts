/**
 * Device model + configuration parameters: what a migration stream says about the device it
 * came from, and the check a destination runs on it before any downtime (the "device model
 * and configuration parameters" approach to VF migration compatibility).
 *
 * The descriptor is JSON in the stream's first section, so a human can read it in a dump:
 *   { "model": "vfmed.82576-vf", "version": [1, 0], "params": { "queues": 2, ... } }
 * A writer emits every parameter; a reader treats a missing parameter as its default,
 * which is always the behaviour of the version that did not have it — so an old stream
 * stays loadable by a newer build. A parameter the destination does not know is refused by
 * name: the destination cannot promise to reproduce it.
 */
import { VfmedError } from '../errors.js';

export const VF_MODEL_ID = 'vfmed.82576-vf';
export const VF_MODEL_VERSION: readonly [number, number] = [1, 0];

/** Configuration a VF was instantiated with; every field has a default = oldest behaviour. */
export interface VfDeviceParams {
  /** Queue pairs visible to the guest driver. */
  queues: number;
  /** 'pf-assigned': MAC given by the PF at VF_RESET; 'fixed': administratively fixed. */
  macPolicy: 'pf-assigned' | 'fixed';
  /** TX head write-back (TDWBAL/TDWBAH) implemented. */
  headWriteBack: boolean;
  /** RX FIFO capacity in bytes: the destination must hold what the source may have queued. */
  rxFifoBytes: number;
  /** Multi-descriptor RX frames (EOP only on the last). */
  multiDescriptorRx: boolean;
}

export const DEFAULT_PARAMS: Readonly<VfDeviceParams> = {
  queues: 2,
  macPolicy: 'pf-assigned',
  headWriteBack: true,
  rxFifoBytes: 64 * 1024,
  multiDescriptorRx: true,
};

export interface DeviceDescriptor {
  model: string;
  version: readonly [number, number];
  params: VfDeviceParams;
}

/** What a destination can instantiate. */
export interface DestinationCapabilities {
  model: string;
  version: readonly [number, number];
  params: VfDeviceParams;
}

type ParamRule = (src: VfDeviceParams[keyof VfDeviceParams], dst: VfDeviceParams) => string | null;

/** How each parameter of the source must relate to the destination's configuration. */
const RULES: { [K in keyof VfDeviceParams]: ParamRule } = {
  queues: (v, d) => (v === d.queues ? null : `source has ${String(v)} queue pairs, destination ${d.queues}`),
  macPolicy: (v, d) => (v === d.macPolicy ? null : `source MAC policy '${String(v)}', destination '${d.macPolicy}'`),
  headWriteBack: (v, d) => (!v || d.headWriteBack ? null : 'source uses TX head write-back, destination lacks it'),
  rxFifoBytes: (v, d) => ((v as number) <= d.rxFifoBytes ? null : `source RX FIFO ${String(v)} bytes exceeds destination's ${d.rxFifoBytes}`),
  multiDescriptorRx: (v, d) => (!v || d.multiDescriptorRx ? null : 'source uses multi-descriptor RX, destination lacks it'),
};

export function encodeDescriptor(d: DeviceDescriptor): Buffer {
  return Buffer.from(JSON.stringify({ model: d.model, version: d.version, params: d.params }), 'utf8');
}

export class IncompatibleDeviceError extends VfmedError {
  constructor(readonly parameter: string, message: string) {
    super('VFMED_ERR_INCOMPATIBLE', `incompatible destination: ${parameter}: ${message}`, 71 /* EPROTO */);
    this.name = 'IncompatibleDeviceError';
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses and type-checks a descriptor; missing parameters take their defaults. */
export function decodeDescriptor(buf: Uint8Array): DeviceDescriptor {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(buf).toString('utf8'));
  } catch {
    throw new VfmedError('VFMED_ERR_STREAM_CORRUPT', 'device descriptor is not valid JSON', 74);
  }
  if (!isObj(raw) || typeof raw['model'] !== 'string' || !Array.isArray(raw['version']) || raw['version'].length !== 2 ||
      !raw['version'].every((n) => Number.isInteger(n) && n >= 0) || (raw['params'] !== undefined && !isObj(raw['params']))) {
    throw new VfmedError('VFMED_ERR_STREAM_CORRUPT', 'device descriptor lacks model/version/params', 74);
  }
  const params: Record<string, unknown> = { ...DEFAULT_PARAMS };
  for (const [k, v] of Object.entries((raw['params'] as Record<string, unknown> | undefined) ?? {})) {
    if (!(k in DEFAULT_PARAMS)) throw new IncompatibleDeviceError(k, 'parameter unknown to this destination');
    const want = typeof DEFAULT_PARAMS[k as keyof VfDeviceParams];
    if (typeof v !== want) throw new VfmedError('VFMED_ERR_STREAM_CORRUPT', `device descriptor parameter ${k} is not a ${want}`, 74);
    params[k] = v;
  }
  return { model: raw['model'], version: [raw['version'][0] as number, raw['version'][1] as number], params: params as unknown as VfDeviceParams };
}

/** Throws IncompatibleDeviceError naming the first parameter the destination cannot honour. */
export function checkCompatible(src: DeviceDescriptor, dst: DestinationCapabilities): void {
  if (src.model !== dst.model) throw new IncompatibleDeviceError('model', `source device model '${src.model}', destination '${dst.model}'`);
  if (src.version[0] !== dst.version[0]) {
    throw new IncompatibleDeviceError('version', `source model version ${src.version.join('.')}, destination ${dst.version.join('.')}`);
  }
  for (const key of Object.keys(RULES) as (keyof VfDeviceParams)[]) {
    const why = RULES[key](src.params[key], dst.params);
    if (why) throw new IncompatibleDeviceError(key, why);
  }
}
