/**
 * A client of the guest runner's monitor socket (the UNIX stream socket of
 * `vfmed-guest --monitor PATH`; protocol in monitor-protocol.ts): connects, sends requests
 * with ids and matches their replies, and hands every event to the caller in order.
 *
 *   const m = await MonitorClient.connect(path);
 *   const r = await m.request({ cmd: 'migrate', to: 'host-b:4444' });   // {ok, error?}
 *   for (;;) { const ev = await m.nextEvent(); ... }                    // throws when the
 *   m.close();                                                          // link breaks
 *
 * Every way the link can go wrong — no socket, refused, a line that is not the protocol, a
 * line over 64 KiB, the runner complaining about our line, the connection closing — ends
 * in a MonitorError naming it; pending requests and waiters are rejected with the same
 * error, and nothing is left running (the socket is destroyed).
 */
import { createConnection, type Socket } from 'node:net';
import { VfmedError } from '../errors.js';
import { MONITOR_MAX_LINE, parseMonitorLine, type MonitorEvent, type MonitorReply, type MonitorRequest } from './monitor-protocol.js';

export class MonitorError extends VfmedError {
  constructor(message: string, readonly reason: 'connect' | 'protocol' | 'closed' | 'timeout' = 'protocol') {
    super('VFMED_ERR_MONITOR', message);
  }
}

export interface ReceivedEvent {
  event: MonitorEvent;
  /** the object as the runner sent it (what --json prints) */
  raw: Record<string, unknown>;
}

interface Pending {
  id: number;
  resolve: (r: MonitorReply) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class MonitorClient {
  readonly #sock: Socket;
  readonly #path: string;
  #buf = '';
  #nextId = 1;
  readonly #pending: Pending[] = [];
  readonly #events: ReceivedEvent[] = [];
  #waiter: { resolve: (e: ReceivedEvent) => void; reject: (e: Error) => void } | null = null;
  #failure: MonitorError | null = null;

  private constructor(sock: Socket, path: string) {
    this.#sock = sock;
    this.#path = path;
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => this.#data(d));
    sock.on('error', (e: NodeJS.ErrnoException) => this.#fail(new MonitorError(`monitor ${path}: ${e.code ?? e.message}`, 'closed')));
    sock.on('close', () => this.#fail(new MonitorError(`the monitor ${path} closed the connection`, 'closed')));
  }

  /** Connects to the runner's monitor socket. */
  static connect(path: string, timeoutMs = 5000): Promise<MonitorClient> {
    return new Promise((resolve, reject) => {
      const sock = createConnection({ path });
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new MonitorError(`cannot connect to the monitor ${path}: no answer within ${timeoutMs} ms`, 'connect'));
      }, timeoutMs);
      sock.once('connect', () => {
        clearTimeout(timer);
        sock.removeAllListeners('error');
        resolve(new MonitorClient(sock, path));
      });
      sock.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        sock.destroy();
        const why = e.code === 'ENOENT' ? 'no such socket (ENOENT)'
          : e.code === 'ECONNREFUSED' ? 'nothing listens on it (ECONNREFUSED)'
            : e.code === 'EACCES' ? 'permission denied (EACCES)'
              : e.code === 'ENOTSOCK' ? 'not a socket (ENOTSOCK)' : (e.code ?? e.message);
        reject(new MonitorError(`cannot connect to the monitor ${path}: ${why}`, 'connect'));
      });
    });
  }

  /** Sends a request; resolves with its reply (ok true or false), rejects on link failure. */
  request(req: MonitorRequest, timeoutMs = 10_000): Promise<MonitorReply> {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#fail(new MonitorError(`the monitor ${this.#path} did not answer "${req.cmd}" within ${timeoutMs} ms`, 'timeout'));
      }, timeoutMs);
      this.#pending.push({ id, resolve, reject, timer });
      this.#sock.write(`${JSON.stringify({ id, ...req })}\n`);
    });
  }

  /** The next event (in arrival order); rejects with the link's failure once it failed. */
  nextEvent(): Promise<ReceivedEvent> {
    const e = this.#events.shift();
    if (e) return Promise.resolve(e);
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  close(): void {
    this.#sock.destroy();
    this.#fail(new MonitorError('monitor connection closed by this client', 'closed'));
  }

  #data(d: string): void {
    this.#buf += d;
    for (;;) {
      const nl = this.#buf.indexOf('\n');
      if (nl < 0) break;
      const line = this.#buf.slice(0, nl);
      this.#buf = this.#buf.slice(nl + 1);
      if (Buffer.byteLength(line) > MONITOR_MAX_LINE) return this.#protocol(`a line of ${Buffer.byteLength(line)} bytes (at most ${MONITOR_MAX_LINE})`);
      if (line.trim() === '') continue;
      this.#line(line);
      if (this.#failure) return;
    }
    if (Buffer.byteLength(this.#buf) > MONITOR_MAX_LINE) this.#protocol(`a line longer than ${MONITOR_MAX_LINE} bytes`);
  }

  #line(line: string): void {
    let m;
    try {
      m = parseMonitorLine(line);
    } catch (e) {
      return this.#protocol((e as Error).message);
    }
    switch (m.kind) {
      case 'error':
        return this.#fail(new MonitorError(`the monitor ${this.#path} refused a request: ${m.message}`));
      case 'reply': {
        // Replies echo the id; one without an id answers the oldest request (the protocol
        // answers a connection's requests in order).
        const i = m.reply.id === undefined ? 0 : this.#pending.findIndex((p) => p.id === m.reply.id);
        const p = i >= 0 ? this.#pending.splice(i, 1)[0] : undefined;
        if (!p) return this.#protocol(`a reply to no request (id ${String(m.reply.id)})`);
        clearTimeout(p.timer);
        p.resolve(m.reply);
        return;
      }
      case 'event': {
        const ev = { event: m.event, raw: m.raw };
        const w = this.#waiter;
        if (w) {
          this.#waiter = null;
          w.resolve(ev);
        } else {
          this.#events.push(ev);
        }
      }
    }
  }

  #protocol(what: string): void {
    this.#fail(new MonitorError(`malformed line from the monitor ${this.#path}: ${what}`));
  }

  #fail(e: MonitorError): void {
    if (this.#failure) return;
    this.#failure = e;
    this.#sock.destroy();
    for (const p of this.#pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(e);
    }
    const w = this.#waiter;
    this.#waiter = null;
    w?.reject(e);
  }
}
