// A fake guest-runner monitor for the `vfmed migrate` tests: a UNIX stream server in the
// test process that speaks the monitor protocol of docs/live-migration.md (one JSON object
// per line) — or deliberately does not — as each test's script says. It records every
// request it receives.
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';

export type Request = Record<string, unknown> & { cmd: string; id?: number };

export interface Conn {
  /** Sends an object as one line, or a raw string as-is (newline added unless `raw`). */
  send(o: object | string, raw?: boolean): void;
  /** Replies to `req` (echoing its id). */
  reply(req: Request, o: object): void;
  end(): void;
  destroy(): void;
}

export class FakeMonitor {
  readonly requests: Request[] = [];
  readonly path: string;
  readonly #server: Server;
  readonly #socks = new Set<Socket>();

  private constructor(dir: string, onRequest: (req: Request, conn: Conn) => void) {
    this.path = join(dir, 'monitor.sock');
    this.#server = createServer((sock) => {
      this.#socks.add(sock);
      sock.on('close', () => this.#socks.delete(sock));
      sock.on('error', () => { /* the CLI went away */ });
      const conn: Conn = {
        send: (o, raw = false) => {
          if (!sock.writable) return;
          sock.write(typeof o === 'string' ? (raw ? o : `${o}\n`) : `${JSON.stringify(o)}\n`);
        },
        reply: (req, o) => conn.send({ ...(req.id !== undefined ? { id: req.id } : {}), ...o }),
        end: () => sock.end(),
        destroy: () => sock.destroy(),
      };
      let buf = '';
      sock.setEncoding('utf8');
      sock.on('data', (d: string) => {
        buf += d;
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
          const req = JSON.parse(buf.slice(0, nl)) as Request;
          buf = buf.slice(nl + 1);
          this.requests.push(req);
          onRequest(req, conn);
        }
      });
    });
  }

  static async start(dir: string, onRequest: (req: Request, conn: Conn) => void): Promise<FakeMonitor> {
    const m = new FakeMonitor(dir, onRequest);
    await new Promise<void>((resolve, reject) => {
      m.#server.once('error', reject);
      m.#server.listen(m.path, () => resolve());
    });
    return m;
  }

  async close(): Promise<void> {
    for (const s of this.#socks) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

// ---- events as a runner sends them ------------------------------------------------------

export const RAM = 64 << 20;

export function progress(round: number, remaining: number, extra: Partial<Record<string, number>> = {}): object {
  return {
    event: 'progress', round, ram_bytes: RAM, ram_remaining_bytes: remaining, pages_cpu: 100 * round, pages_device: 7 * round,
    pages_sent: round === 0 ? RAM / 4096 : 107 * round, bytes_sent: RAM + round * 107 * 4096, round_ms: 40,
    dirty_rate_pps: 2500, bandwidth_bps: 800 << 20, expected_downtime_ms: 12, ...extra,
  };
}

export function completed(): object {
  return {
    event: 'completed', tracker: 'tail-trap', total_ms: 812.5, downtime_ms: 41.2, setup_ms: 3.1,
    rounds: [
      { round: 0, pages: RAM / 4096, pages_cpu: 0, pages_device: 0, bytes: RAM, ms: 600 },
      { round: 1, pages: 107, pages_cpu: 100, pages_device: 7, bytes: 107 * 4096, ms: 40 },
      { round: 2, pages: 30, pages_cpu: 25, pages_device: 5, bytes: 30 * 4096, ms: 9 },
    ],
    ram_bytes: RAM, bytes_sent: RAM + 137 * 4096 + 4000, device_bytes: 4000, ram_digest: '0123456789abcdef0123', verify_ms: 55,
    guest: { rx_frames: 100000, lost: 0, duplicated: 0, reordered: 0 },
  };
}
