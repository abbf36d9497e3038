/**
 * Client side of the daemon's control socket (protocol: control-server.ts): one request,
 * one reply, with a bounded wait. The errors say what the user should do: no daemon
 * (ENOENT/ECONNREFUSED: "is vfmed start running?"), no permission (EACCES: the socket is
 * 0600, owned by the daemon's user), a daemon that does not answer in time.
 */
import { createConnection } from 'node:net';
import { VfmedError } from '../errors.js';

export class ControlError extends VfmedError {}

export interface ControlCallOptions {
  timeoutMs?: number;
}

export function callDaemon<T = unknown>(path: string, cmd: string, args: Record<string, unknown> = {},
  opts: ControlCallOptions = {}): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return new Promise<T>((resolve, reject) => {
    const s = createConnection(path);
    let buf = '';
    let settled = false;
    const done = (f: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.destroy();
      f();
    };
    const timer = setTimeout(() => done(() => reject(new ControlError('VFMED_ERR_CONTROL',
      `the daemon at ${path} did not answer '${cmd}' within ${timeoutMs} ms`))), timeoutMs);
    s.setEncoding('utf8');
    s.on('connect', () => s.write(`${JSON.stringify({ id: 1, cmd, args })}\n`));
    s.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      let msg: { ok?: boolean; result?: unknown; error?: { code?: string; message?: string } };
      try {
        msg = JSON.parse(buf.slice(0, nl)) as typeof msg;
      } catch {
        done(() => reject(new ControlError('VFMED_ERR_CONTROL', `the daemon at ${path} sent a malformed reply`)));
        return;
      }
      if (msg.ok) done(() => resolve(msg.result as T));
      else done(() => reject(new ControlError(msg.error?.code ?? 'VFMED_ERR_CONTROL', msg.error?.message ?? 'request failed')));
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      const why = e.code === 'ENOENT' || e.code === 'ECONNREFUSED'
        ? `no daemon is listening on ${path} (is 'vfmed start' running? --run-dir/--control select another)`
        : e.code === 'EACCES' || e.code === 'EPERM'
          ? `permission denied on ${path} (the control socket belongs to the daemon's user)`
          : `cannot reach the daemon at ${path}: ${e.code ?? e.message}`;
      done(() => reject(new ControlError('VFMED_ERR_NO_DAEMON', why)));
    });
    s.on('end', () => done(() => reject(new ControlError('VFMED_ERR_CONTROL', `the daemon at ${path} closed the connection`))));
  });
}
