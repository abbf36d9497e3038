/**
 * VFIO_USER_VERSION: version and capability negotiation (the first message of a session).
 *
 * Rules (spec "VFIO_USER_VERSION"): the reply keeps the client's major (we speak 0 only;
 * another major is EPROTONOSUPPORT and the connection is closed after the reply, as the
 * spec says the server closes when it cannot support the version), the reply's minor is
 * min(client, ours), and the capabilities describe this server's limits. The client's
 * capabilities are validated like libvfio-user does: malformed JSON or a value of the
 * wrong type is EINVAL; unknown names are ignored (forward compatibility).
 */
import { constants } from 'node:os';
import { decodeVersion, encodeVersion, msgError, type Header } from '../messages.js';
import { MAX_VERSION_JSON, SERVER_MAJOR, SERVER_MINOR, ServerLimits } from '../protocol.js';
import type { HandlerContext, HandlerResult, ReceivedFds } from '../session.js';

const { EPROTONOSUPPORT } = constants.errno;

/** SCM_MAX_FD: more fds than this cannot be sent in one message on Linux. */
const LINUX_SCM_MAX_FD = 253;

export interface ClientCaps {
  maxMsgFds?: number;
  maxDataXferSize?: number;
  maxDmaMaps?: number;
  pgsizes?: number;
  writeMultiple?: boolean;
}

function uint(obj: Record<string, unknown>, key: string, min: number, max: number): number | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw msgError(`VERSION: capability ${key} must be an integer in ${min}..${max}`);
  }
  return v;
}

/** Parses and validates the client's capability JSON. */
export function parseClientCaps(json: string | null): ClientCaps {
  if (json === null) return {};
  if (json.length > MAX_VERSION_JSON) throw msgError(`VERSION: capabilities larger than ${MAX_VERSION_JSON} bytes`);
  let top: unknown;
  try {
    top = JSON.parse(json);
  } catch {
    throw msgError('VERSION: capabilities are not valid JSON');
  }
  if (typeof top !== 'object' || top === null || Array.isArray(top)) throw msgError('VERSION: capabilities JSON is not an object');
  const caps = (top as Record<string, unknown>)['capabilities'];
  if (caps === undefined) return {};
  if (typeof caps !== 'object' || caps === null || Array.isArray(caps)) throw msgError('VERSION: "capabilities" is not an object');
  const c = caps as Record<string, unknown>;
  const out: ClientCaps = {
    maxMsgFds: uint(c, 'max_msg_fds', 0, LINUX_SCM_MAX_FD),
    maxDataXferSize: uint(c, 'max_data_xfer_size', 1, 0xffffffff),
    maxDmaMaps: uint(c, 'max_dma_maps', 1, 0xffffffff),
    pgsizes: uint(c, 'pgsizes', 1, Number.MAX_SAFE_INTEGER),
  };
  if (out.pgsizes !== undefined && (Math.floor(out.pgsizes / ServerLimits.pgsizes) & 1) === 0) {
    throw msgError(`VERSION: pgsizes 0x${out.pgsizes.toString(16)} lacks 4 KiB, the only size this server maps`);
  }
  const wm = c['write_multiple'];
  if (wm !== undefined && typeof wm !== 'boolean') throw msgError('VERSION: write_multiple must be a boolean');
  if (wm !== undefined) out.writeMultiple = wm;
  for (const obj of ['migration', 'twin_socket'] as const) {
    const v = c[obj];
    if (v !== undefined && (typeof v !== 'object' || v === null || Array.isArray(v))) throw msgError(`VERSION: ${obj} must be an object`);
  }
  return out;
}

/** The capabilities this server answers with. */
export function serverCaps(client: ClientCaps, deviceMaxDmaMaps: number = ServerLimits.maxDmaMaps): Record<string, unknown> {
  const caps: Record<string, unknown> = {
    max_msg_fds: ServerLimits.maxMsgFds,
    max_data_xfer_size: ServerLimits.maxDataXferSize,
    pgsizes: ServerLimits.pgsizes,
    max_dma_maps: Math.min(deviceMaxDmaMaps, client.maxDmaMaps ?? deviceMaxDmaMaps),
  };
  if (client.writeMultiple === true) caps['write_multiple'] = true;
  return { capabilities: caps };
}

export function handleVersion(ctx: HandlerContext, _hdr: Header, payload: Uint8Array, _fds: ReceivedFds): HandlerResult {
  const v = decodeVersion(payload);
  if (v.major !== SERVER_MAJOR) {
    ctx.session.closeAfterReply = true;
    throw msgError(`VERSION: major ${v.major} not supported (this server speaks ${SERVER_MAJOR}.${SERVER_MINOR})`, EPROTONOSUPPORT);
  }
  const client = parseClientCaps(v.json);
  const s = ctx.session;
  s.negotiated = true;
  s.major = SERVER_MAJOR;
  s.minor = Math.min(v.minor, SERVER_MINOR);
  s.clientMaxMsgFds = client.maxMsgFds ?? 1;
  s.clientMaxDataXferSize = client.maxDataXferSize ?? ServerLimits.maxDataXferSize;
  s.writeMultiple = client.writeMultiple === true;
  return { payload: encodeVersion({ major: s.major, minor: s.minor, json: JSON.stringify(serverCaps(client, ctx.device.maxDmaMaps)) }) };
}

