/**
 * The daemon's control socket: a UNIX stream socket, mode 0600 inside the 0700 run
 * directory, speaking JSON lines. `vfmed status`, `bind`, `unbind`, `replay`, `stop` and
 * `guest --vf` are its clients (control-client.ts).
 *
 *   request   {"id": 1, "cmd": "status", "args": {...}}\n
 *   reply     {"id": 1, "ok": true, "result": {...}}\n
 *             {"id": 1, "ok": false, "error": {"code": "VFMED_ERR_BIND", "message": "..."}}\n
 *
 * Requests on one connection are answered in order. A line that is not a JSON object, an
 * unknown command or a line over MAX_LINE gets an error reply (an over-long line also ends
 * the connection); the daemon itself is never affected by a client.
 */
import { chmodSync, existsSync, lstatSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { VfmedError } from '../errors.js';

export const MAX_LINE = 64 * 1024;

export type ControlHandler = (args: Record<string, unknown>) => unknown;

export interface ControlRequest { id?: unknown; cmd?: unknown; args?: unknown }

function errorOf(e: unknown): { code: string; message: string } {
  const code = (e as { code?: unknown }).code;
  return {
    code: typeof code === 'string' ? code : 'VFMED_ERR_INTERNAL',
    message: e instanceof Error ? e.message.split('\n')[0]! : String(e),
  };
}

/** True if something answers on the socket at path (a live daemon). */
export function socketAnswers(path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    const t = setTimeout(() => {
      s.destroy();
      resolve(true); // connected but silent still means alive; refused would have errored
    }, timeoutMs);
    s.on('connect', () => {
      clearTimeout(t);
      s.destroy();
      resolve(true);
    });
    s.on('error', () => {
      clearTimeout(t);
      resolve(false);
    });
  });
}

export class ControlServer {
  readonly path: string;
  readonly #handlers: Map<string, ControlHandler>;
  readonly #log: Logger;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  private constructor(path: string, handlers: Map<string, ControlHandler>, log: Logger) {
    this.path = path;
    this.#handlers = handlers;
    this.#log = log;
    this.#server = createServer((s) => this.#onConnection(s));
  }

  /** Listens at path. A stale socket there is replaced; a live one is EADDRINUSE (another
   * daemon); any other file is refused. */
  static async listen(path: string, handlers: Record<string, ControlHandler>, log: Logger): Promise<ControlServer> {
    if (existsSync(path)) {
      if (!lstatSync(path).isSocket()) {
        throw new VfmedError('VFMED_ERR_CONTROL', `${path} exists and is not a socket; refusing to replace it`);
      }
      if (await socketAnswers(path)) {
        throw new VfmedError('VFMED_ERR_CONTROL', `a daemon is already running (its control socket ${path} answers)`);
      }
      unlinkSync(path);
    }
    const cs = new ControlServer(path, new Map(Object.entries(handlers)), log);
    await new Promise<void>((resolve, reject) => {
      cs.#server.once('error', reject);
      cs.#server.listen(path, () => {
        cs.#server.off('error', reject);
        resolve();
      });
    });
    chmodSync(path, 0o600);
    return cs;
  }

  #onConnection(s: Socket): void {
    this.#sockets.add(s);
    s.on('close', () => this.#sockets.delete(s));
    s.on('error', () => { /* a client going away mid-reply is its business */ });
    let buf = '';
    let chain = Promise.resolve();
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      buf += d;
      for (;;) {
        const nl = buf.indexOf('\n');
        if (nl < 0) break;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.trim() === '') continue;
        chain = chain.then(() => this.#handle(s, line));
      }
      if (buf.length > MAX_LINE) {
        buf = '';
        chain = chain.then(() => {
          this.#reply(s, { id: null, ok: false, error: { code: 'VFMED_ERR_CONTROL', message: `request longer than ${MAX_LINE} bytes` } });
          s.end();
        });
      }
    });
  }

  async #handle(s: Socket, line: string): Promise<void> {
    let req: ControlRequest;
    try {
      req = JSON.parse(line) as ControlRequest;
      if (typeof req !== 'object' || req === null || Array.isArray(req)) throw new Error('not an object');
    } catch {
      this.#reply(s, { id: null, ok: false, error: { code: 'VFMED_ERR_CONTROL', message: 'request is not a JSON object' } });
      return;
    }
    const id = typeof req.id === 'number' || typeof req.id === 'string' ? req.id : null;
    const h = typeof req.cmd === 'string' ? this.#handlers.get(req.cmd) : undefined;
    if (!h) {
      this.#reply(s, { id, ok: false, error: { code: 'VFMED_ERR_CONTROL', message: `unknown command ${JSON.stringify(req.cmd)}` } });
      return;
    }
    const args = req.args && typeof req.args === 'object' && !Array.isArray(req.args) ? req.args as Record<string, unknown> : {};
    try {
      const result = await h(args);
      this.#reply(s, { id, ok: true, result: result ?? null });
    } catch (e) {
      const err = errorOf(e);
      if (err.code === 'VFMED_ERR_INTERNAL') this.#log.error({ err: e, cmd: req.cmd }, 'control command failed');
      else this.#log.info({ cmd: req.cmd, error: err }, 'control command refused');
      this.#reply(s, { id, ok: false, error: err });
    }
  }

  #reply(s: Socket, msg: object): void {
    if (!s.destroyed) s.write(`${JSON.stringify(msg)}\n`);
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
