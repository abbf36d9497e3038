/**
 * The daemon's configuration: a JSON file (`vfmed start --config FILE`), flags that
 * override it, and defaults. The JSON schema below is the documentation of the file
 * (`vfmed start --print-config-schema` prints it; docs/daemon.md shows an example);
 * unknown keys are errors, so a typo never silently does nothing.
 *
 *   defaults ◀── config file ◀── flags        (later wins, object by object)
 *
 * Paths in the file are resolved against the file's directory; paths from flags against
 * the current directory.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import type { Ajv as AjvClass, ErrorObject } from 'ajv';
import { VfmedError } from '../errors.js';

export const MAX_VFS = 8;
export const DEFAULT_BASE_MAC = '02:76:66:6d:01:00';

export type ReplayRateSetting = 'line' | 'max' | number;
/** The dirty trackers of the VF mediate driver (mediate/dirty-tracker.ts TrackerMode). */
export const DIRTY_TRACKERS = ['tail-trap', 'device-log', 'all'] as const;
export type DirtyTrackingSetting = (typeof DIRTY_TRACKERS)[number];

export interface CaptureConfig { file: string; snaplen: number }
export interface ReplayConfig { file: string; rate: ReplayRateSetting; loop: number; start: 'rx-ready' | 'now' }
export interface TapConfig { name: string }

export interface DaemonConfig {
  /** directory of the sockets (0700): vf<N>.sock and control.sock */
  runDir: string;
  /** control socket (default <runDir>/control.sock) */
  control: string;
  /** VFs bound (SR-IOV enabled and served) at start; 0 = wait for `vfmed bind` */
  vfs: number;
  nic: { maxVfs: number; rxFifoBytes: number; pollMode: 'adaptive' | 'busy' };
  /** MAC of VF n: macs[n] if given, else baseMac + n; set administratively by the PF driver */
  baseMac: string;
  macs: Record<string, string>;
  uplink: {
    linkSpeedMbps: number;
    capture: CaptureConfig | null;
    replay: ReplayConfig | null;
    tap: TapConfig | null;
  };
  /** VF migration: the dirty tracker every open starts with (a client may switch it with
   * DEVICE_FEATURE VFMED_DIRTY_TRACKER while DMA logging is off) */
  migration: { dirtyTracking: DirtyTrackingSetting };
  log: { level: string; file: string | null };
}

/** Everything optional: what a config file or the flags may say. */
export type PartialConfig = {
  [K in keyof DaemonConfig]?: DaemonConfig[K] extends Record<string, unknown> | null
    ? { [J in keyof NonNullable<DaemonConfig[K]>]?: unknown } | null : DaemonConfig[K];
};

const MAC = '^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$';

/** JSON schema of the config file (draft-07). */
export const CONFIG_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'vfmed daemon configuration',
  type: 'object',
  additionalProperties: false,
  properties: {
    runDir: { type: 'string', minLength: 1, description: 'directory of the vfio-user and control sockets (created 0700)' },
    control: { type: 'string', minLength: 1, description: 'control socket path (default <runDir>/control.sock)' },
    vfs: { type: 'integer', minimum: 0, maximum: MAX_VFS, description: 'VFs bound at start (0: wait for vfmed bind)' },
    nic: {
      type: 'object', additionalProperties: false,
      properties: {
        maxVfs: { type: 'integer', minimum: 1, maximum: MAX_VFS, description: 'VFs the PF offers (TotalVFs)' },
        rxFifoBytes: { type: 'integer', minimum: 9728, maximum: 64 << 20, description: 'per-VF RX FIFO bytes' },
        pollMode: { enum: ['adaptive', 'busy'], description: 'device thread: spin then sleep, or always spin' },
      },
    },
    baseMac: { type: 'string', pattern: MAC, description: 'MAC of VF 0; VF n gets the last byte + n' },
    macs: {
      type: 'object', additionalProperties: false, description: 'per-VF MAC overrides, by VF number',
      patternProperties: { '^[0-7]$': { type: 'string', pattern: MAC } },
    },
    uplink: {
      type: 'object', additionalProperties: false,
      properties: {
        linkSpeedMbps: { type: 'integer', minimum: 1, maximum: 400000, description: 'link speed for line-rate replay' },
        capture: {
          type: ['object', 'null'], additionalProperties: false, required: ['file'],
          description: 'pcap capture of every frame leaving the uplink',
          properties: { file: { type: 'string', minLength: 1 }, snaplen: { type: 'integer', minimum: 14, maximum: 262144 } },
        },
        replay: {
          type: ['object', 'null'], additionalProperties: false, required: ['file'],
          description: 'pcap replay into the uplink',
          properties: {
            file: { type: 'string', minLength: 1 },
            rate: { oneOf: [{ enum: ['line', 'max'] }, { type: 'number', exclusiveMinimum: 0, maximum: 1e9 }],
              description: "'line' (wire time at linkSpeedMbps), 'max' (unpaced) or frames per second" },
            loop: { type: 'integer', minimum: 0, description: 'passes over the file, 0 = forever' },
            start: { enum: ['rx-ready', 'now'], description: 'rx-ready: once a bound VF has its RX queue enabled' },
          },
        },
        tap: {
          type: ['object', 'null'], additionalProperties: false,
          description: 'bridge the uplink to a TAP interface (created, up, no address)',
          properties: { name: { type: 'string', pattern: '^[A-Za-z0-9_.-]{0,15}$' } },
        },
      },
    },
    migration: {
      type: 'object', additionalProperties: false,
      properties: {
        dirtyTracking: {
          enum: [...DIRTY_TRACKERS],
          description: "default dirty tracker of every VF open: 'tail-trap' (mediated doorbells), 'device-log' (the PF's dirty log) or 'all' (every page)",
        },
      },
    },
    log: {
      type: 'object', additionalProperties: false,
      properties: {
        level: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] },
        file: { type: ['string', 'null'], minLength: 1, description: 'JSON log lines go here instead of stderr' },
      },
    },
  },
} as const;

/** Where the sockets go by default: /run/vfmed for root, else $XDG_RUNTIME_DIR/vfmed or
 * /tmp/vfmed-<uid>; VFMED_RUN_DIR overrides. */
export function defaultRunDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env['VFMED_RUN_DIR']) return resolve(env['VFMED_RUN_DIR']);
  const uid = process.getuid?.() ?? 0;
  if (uid === 0) return '/run/vfmed';
  if (env['XDG_RUNTIME_DIR']) return join(env['XDG_RUNTIME_DIR'], 'vfmed');
  return `/tmp/vfmed-${uid}`;
}

export function controlPathOf(runDir: string): string {
  return join(runDir, 'control.sock');
}

export function defaults(): DaemonConfig {
  const runDir = defaultRunDir();
  return {
    runDir,
    control: controlPathOf(runDir),
    vfs: 0,
    nic: { maxVfs: MAX_VFS, rxFifoBytes: 64 * 1024, pollMode: 'adaptive' },
    baseMac: DEFAULT_BASE_MAC,
    macs: {},
    uplink: { linkSpeedMbps: 1000, capture: null, replay: null, tap: null },
    migration: { dirtyTracking: 'tail-trap' },
    log: { level: 'info', file: null },
  };
}

function configError(where: string, msg: string): VfmedError {
  return new VfmedError('VFMED_ERR_CONFIG', `${where}: ${msg}`);
}

// ajv is loaded on the first validation only: commands that merely need the paths above
// (vfmed bind/unbind of real devices) then start without it, which matters on slow CPUs
// (about 1.5 s of a `vfmed bind` in the kernel test's TCG guest).
let validator: ReturnType<AjvClass['compile']> | undefined;
function validate(where: string, obj: unknown): void {
  if (!validator) {
    const { Ajv } = createRequire(import.meta.url)('ajv') as { Ajv: typeof AjvClass };
    validator = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true }).compile(CONFIG_SCHEMA);
  }
  if (!validator(obj)) {
    const e = validator.errors?.[0] as ErrorObject | undefined;
    const path = e?.instancePath || '/';
    const extra = e?.keyword === 'additionalProperties'
      ? ` '${String((e.params as { additionalProperty?: string }).additionalProperty)}'` : '';
    throw configError(where, `${path} ${e?.message ?? 'is invalid'}${extra}`);
  }
}

function absolutize(p: PartialConfig, base: string): PartialConfig {
  const abs = (s: unknown): unknown => (typeof s === 'string' && !isAbsolute(s) ? resolve(base, s) : s);
  const out: PartialConfig = { ...p };
  if (out.runDir !== undefined) out.runDir = abs(out.runDir) as string;
  if (out.control !== undefined) out.control = abs(out.control) as string;
  if (out.uplink) {
    const u = { ...out.uplink } as Record<string, unknown>;
    for (const k of ['capture', 'replay'] as const) {
      const v = u[k] as { file?: unknown } | null | undefined;
      if (v && typeof v === 'object') u[k] = { ...v, file: abs(v.file) };
    }
    out.uplink = u;
  }
  if (out.log && typeof out.log === 'object' && (out.log as { file?: unknown }).file) {
    out.log = { ...out.log, file: abs((out.log as { file?: unknown }).file) };
  }
  return out;
}

/** Reads and validates a config file; relative paths become relative to its directory. */
export function loadConfigFile(path: string): PartialConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw configError(path, `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    throw configError(path, `not valid JSON (${(e as Error).message})`);
  }
  validate(path, obj);
  return absolutize(obj as PartialConfig, dirname(resolve(path)));
}

/** Validates flag-made settings (relative paths against the current directory). */
export function flagConfig(p: PartialConfig): PartialConfig {
  validate('flags', p);
  return absolutize(p, process.cwd());
}

function mergeSection<T extends object>(base: T | null, over: object | null | undefined, fill: T | null): T | null {
  if (over === undefined) return base;
  if (over === null) return null;
  return { ...(base ?? fill ?? {}), ...over } as T;
}

/** defaults ← each layer in order; then cross-field checks. */
export function resolveConfig(...layers: PartialConfig[]): DaemonConfig {
  const c = defaults();
  let controlSet = false;
  for (const l of layers) {
    if (l.runDir !== undefined) c.runDir = l.runDir;
    if (l.control !== undefined) {
      c.control = l.control;
      controlSet = true;
    }
    if (l.vfs !== undefined) c.vfs = l.vfs;
    if (l.nic) Object.assign(c.nic, l.nic);
    if (l.baseMac !== undefined) c.baseMac = l.baseMac;
    if (l.macs) Object.assign(c.macs, l.macs);
    if (l.uplink) {
      const u = l.uplink as Record<string, unknown>;
      if (u['linkSpeedMbps'] !== undefined) c.uplink.linkSpeedMbps = u['linkSpeedMbps'] as number;
      c.uplink.capture = mergeSection(c.uplink.capture, u['capture'] as object | null | undefined, { file: '', snaplen: 65535 });
      c.uplink.replay = mergeSection(c.uplink.replay, u['replay'] as object | null | undefined,
        { file: '', rate: 'line', loop: 1, start: 'rx-ready' });
      c.uplink.tap = mergeSection(c.uplink.tap, u['tap'] as object | null | undefined, { name: 'vfmed0' });
    }
    if (l.migration) Object.assign(c.migration, l.migration);
    if (l.log) Object.assign(c.log, l.log);
  }
  if (!controlSet) c.control = controlPathOf(c.runDir);
  if (c.vfs > c.nic.maxVfs) throw configError('config', `vfs (${c.vfs}) is more than nic.maxVfs (${c.nic.maxVfs})`);
  for (const k of Object.keys(c.macs)) {
    if (Number(k) >= c.nic.maxVfs) throw configError('config', `macs.${k}: VF ${k} does not exist (nic.maxVfs ${c.nic.maxVfs})`);
  }
  const macs = Array.from({ length: c.nic.maxVfs }, (_, vf) => vfMacOf(c, vf));
  const seen = new Set<string>();
  for (const m of macs) {
    if (seen.has(m)) throw configError('config', `two VFs would get MAC ${m}`);
    seen.add(m);
  }
  for (const m of macs) {
    if (parseInt(m.slice(0, 2), 16) & 1) throw configError('config', `VF MAC ${m} is a multicast address`);
  }
  return c;
}

export function parseMac(s: string): Uint8Array {
  if (!new RegExp(MAC).test(s)) throw new RangeError(`'${s}' is not a MAC address (xx:xx:xx:xx:xx:xx)`);
  return Uint8Array.from(s.split(':').map((h) => parseInt(h, 16)));
}

export function macToString(m: Uint8Array): string {
  return [...m].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** The MAC the PF driver assigns to VF n. */
export function vfMacOf(c: DaemonConfig, vf: number): string {
  const own = c.macs[String(vf)];
  if (own) return own.toLowerCase();
  const m = parseMac(c.baseMac);
  let carry = vf;
  for (let i = 5; i >= 3 && carry; i--) {
    const v = m[i]! + carry;
    m[i] = v & 0xff;
    carry = v >> 8;
  }
  return macToString(m);
}
