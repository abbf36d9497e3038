// A TCP proxy for the live-migration stream (docs/live-migration.md, "The migration
// stream"), run inside the test process: the source runner connects to it, it connects to
// the destination, and it forwards both directions while reading the framing of each, so a
// test can act at a precise point of a migration instead of after a sleep:
//
//   source ──▶ [ listen ]  parse header/sections  ──▶ [ connect ] ──▶ destination
//          ◀──             parse return records   ◀──
//                 faults: flip one byte at stream offset N · cut after N bytes ·
//                         cut / pause / resume on command · callbacks on each section
//
// Limit: when the destination resets the connection (it closed with bytes unread) while
// the proxy writes to it, Node destroys that socket before reading what the destination
// sent just before (e.g. an ERROR record): tcp-flip-relay.py is the faithful relay for that.
//
// Parsing only reads the framing (type, payload length, RAM_PAGES round), never checks a
// CRC: the proxy must forward what it is given, corrupt or not. A section's header is held
// back until it is complete, so an `onSection` callback runs before any byte of that
// section reached the destination (a pause or cut there keeps the whole section away).
import { createServer, connect, type Server, type Socket } from 'node:net';

export const SECTION = { DEVICE_INITIAL: 1, RAM_PAGES: 2, DEVICE_STATE: 3, RAM_DIGEST: 4, END: 5 } as const;
export const RETURN = { COMPAT_OK: 1, REFUSED: 2, CONFIRM: 3, ERROR: 4 } as const;
const SECTION_NAMES: Record<number, string> = { 1: 'DEVICE_INITIAL', 2: 'RAM_PAGES', 3: 'DEVICE_STATE', 4: 'RAM_DIGEST', 5: 'END' };
const RETURN_NAMES: Record<number, string> = { 1: 'COMPAT_OK', 2: 'REFUSED', 3: 'CONFIRM', 4: 'ERROR' };

/** header: "VFMEDMIG" u32 version u32 header_bytes u64 ram_size u64 ram_base u32 page_size u32 config_bytes */
const HEADER_FIXED = 40;
const SECTION_HEAD = 16;
const RETURN_HEAD = 8;
const CRC = 4;
const MAX_PAYLOAD = (1 << 20) + (64 << 10);

export interface StreamHeader { version: number; headerBytes: number; ramSize: bigint; ramBase: bigint; pageSize: number; configBytes: number }

export interface SectionEvent {
  /** absolute offset of the section's first byte in the source → destination stream */
  offset: number;
  type: number;
  name: string;
  payloadBytes: number;
  /** RAM_PAGES: the round and page count of the section */
  round?: number;
  count?: number;
}

export interface ReturnEvent { offset: number; type: number; name: string; payload: Buffer }

/**
 * Incremental reader of the forward stream's framing. Bytes it has consumed (offset below
 * `consumed`) may be forwarded; what it still buffers (an incomplete section header, the
 * first bytes of a RAM_PAGES payload) is held until it can be read. A section is reported
 * when its whole header is here, with the offset of its first byte.
 */
class ForwardParser {
  header: StreamHeader | null = null;
  readonly sections: SectionEvent[] = [];
  error: string | null = null;
  #buf: Buffer = Buffer.alloc(0);
  /** stream offset of #buf[0]: everything before it was consumed */
  #base = 0;
  /** bytes still to skip (header rest, section payload + crc) before the next record */
  #skip = 0;
  #pendingRam: SectionEvent | null = null;

  get consumed(): number {
    return this.#base;
  }

  #eat(n: number): void {
    this.#base += n;
    this.#buf = this.#buf.subarray(n);
  }

  /** Appends `chunk`; returns the sections whose header completed. */
  feed(chunk: Buffer): SectionEvent[] {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
    const events: SectionEvent[] = [];
    for (;;) {
      if (this.error) {
        this.#eat(this.#buf.length); // unparseable framing: forward everything, report nothing
        break;
      }
      if (this.#pendingRam) {
        if (this.#buf.length < 8) break;
        this.#pendingRam.round = this.#buf.readUInt32LE(0);
        this.#pendingRam.count = this.#buf.readUInt32LE(4);
        this.#pendingRam = null;
      }
      if (this.#skip) {
        const n = Math.min(this.#skip, this.#buf.length);
        this.#skip -= n;
        this.#eat(n);
        if (this.#skip) break;
        continue;
      }
      if (!this.header) {
        if (this.#buf.length < HEADER_FIXED) break;
        const b = this.#buf;
        if (b.toString('latin1', 0, 8) !== 'VFMEDMIG') {
          this.error = `bad magic ${b.subarray(0, 8).toString('hex')}`;
          continue;
        }
        this.header = {
          version: b.readUInt32LE(8), headerBytes: b.readUInt32LE(12), ramSize: b.readBigUInt64LE(16),
          ramBase: b.readBigUInt64LE(24), pageSize: b.readUInt32LE(32), configBytes: b.readUInt32LE(36),
        };
        this.#skip = HEADER_FIXED + this.header.configBytes + CRC;
        continue;
      }
      if (this.#buf.length < SECTION_HEAD) break;
      const type = this.#buf.readUInt32LE(0);
      const payload = this.#buf.readBigUInt64LE(8);
      if (payload > BigInt(MAX_PAYLOAD)) {
        this.error = `section at ${this.#base}: payload_bytes ${payload} beyond the limit`;
        continue;
      }
      const ev: SectionEvent = { offset: this.#base, type, name: SECTION_NAMES[type] ?? `type${type}`, payloadBytes: Number(payload) };
      this.sections.push(ev);
      events.push(ev);
      this.#eat(SECTION_HEAD);
      this.#skip = Number(payload) + CRC;
      if (type === SECTION.RAM_PAGES && payload >= 8n) this.#pendingRam = ev;
    }
    return events;
  }
}

/** Reader of the return path's records (u32 type u32 len payload u32 crc). */
class ReturnParser {
  readonly records: ReturnEvent[] = [];
  #buf: Buffer = Buffer.alloc(0);
  #base = 0;

  feed(chunk: Buffer): ReturnEvent[] {
    this.#buf = Buffer.concat([this.#buf, chunk]);
    const out: ReturnEvent[] = [];
    while (this.#buf.length >= RETURN_HEAD) {
      const type = this.#buf.readUInt32LE(0);
      const len = this.#buf.readUInt32LE(4);
      if (len > 1 << 20) break; // not a record stream: stop reading it
      if (this.#buf.length < RETURN_HEAD + len + CRC) break;
      const ev = { offset: this.#base, type, name: RETURN_NAMES[type] ?? `type${type}`,
        payload: Buffer.from(this.#buf.subarray(RETURN_HEAD, RETURN_HEAD + len)) };
      out.push(ev);
      this.records.push(ev);
      this.#base += RETURN_HEAD + len + CRC;
      this.#buf = this.#buf.subarray(RETURN_HEAD + len + CRC);
    }
    return out;
  }
}

export interface ProxyOptions {
  /** address to listen on (reachable from the source) */
  listenHost: string;
  /** the destination's listening address */
  target: { host: string; port: number };
  /** XOR the forward-stream byte at this offset with `flipMask` (default 0xff) */
  flipAt?: number;
  flipMask?: number;
  /** forward exactly this many bytes of the forward stream, then reset both connections */
  cutAfter?: number;
  /** called when a section of the forward stream begins, before any of its bytes went on */
  onSection?: (ev: SectionEvent, proxy: TcpFaultProxy) => void;
  /** called for every record of the return path (after it was forwarded) */
  onReturn?: (ev: ReturnEvent, proxy: TcpFaultProxy) => void;
}

export class TcpFaultProxy {
  readonly #server: Server;
  readonly #o: ProxyOptions;
  #src: Socket | null = null;
  #dst: Socket | null = null;
  /** received from the source, not yet forwarded (the parser may already have read it) */
  readonly #queue: Buffer[] = [];
  /** sections read but not yet reached by forwarding */
  readonly #events: SectionEvent[] = [];
  #paused = false;
  #cut = false;
  readonly #fwd = new ForwardParser();
  readonly #ret = new ReturnParser();
  /** bytes forwarded source → destination and back */
  forwarded = 0;
  returned = 0;
  connections = 0;
  /** why the session ended: 'source closed', 'destination closed', 'cut', an error text */
  closedBy: string | null = null;
  /** whether the flip was applied (the stream reached that offset) */
  flipped = false;
  readonly #closed: Promise<void>;
  #resolveClosed!: () => void;

  private constructor(o: ProxyOptions) {
    this.#o = o;
    this.#closed = new Promise((r) => (this.#resolveClosed = r));
    this.#server = createServer({ noDelay: true }, (s) => this.#accept(s));
  }

  static async start(o: ProxyOptions): Promise<TcpFaultProxy> {
    const p = new TcpFaultProxy(o);
    await new Promise<void>((resolve, reject) => {
      p.#server.once('error', reject);
      p.#server.listen(0, o.listenHost, () => resolve());
    });
    return p;
  }

  get port(): number {
    const a = this.#server.address();
    if (!a || typeof a === 'string') throw new Error('proxy is not listening');
    return a.port;
  }

  /** HOST:PORT for `vfmed migrate --to` */
  get address(): string {
    return `${this.#o.listenHost}:${this.port}`;
  }

  get header(): StreamHeader | null {
    return this.#fwd.header;
  }

  get sections(): readonly SectionEvent[] {
    return this.#fwd.sections;
  }

  get returns(): readonly ReturnEvent[] {
    return this.#ret.records;
  }

  /** Resolves when the (first) proxied session has ended on both sides. */
  get closed(): Promise<void> {
    return this.#closed;
  }

  #accept(s: Socket): void {
    this.connections++;
    if (this.#src) {
      s.destroy(); // one migration at a time: a second connection is refused
      return;
    }
    this.#src = s;
    s.pause(); // nothing is read until the destination is connected
    const d = connect({ host: this.#o.target.host, port: this.#o.target.port, noDelay: true });
    this.#dst = d;
    d.on('connect', () => {
      if (!this.#paused) s.resume();
    });
    s.on('data', (c: Buffer) => this.#forward(c));
    d.on('data', (c: Buffer) => {
      if (this.#cut) return;
      this.returned += c.length;
      s.write(c);
      for (const ev of this.#ret.feed(c)) this.#o.onReturn?.(ev, this);
    });
    const done = (who: string) => (err?: Error): void => {
      this.closedBy ??= err ? `${who}: ${err.message}` : `${who} closed`;
      s.destroy();
      d.destroy();
      this.#resolveClosed();
    };
    s.on('end', () => d.end());
    d.on('end', () => s.end());
    s.on('error', done('source'));
    d.on('error', done('destination'));
    s.on('close', () => {
      this.closedBy ??= 'source closed';
      d.end();
      if (d.destroyed) this.#resolveClosed();
    });
    d.on('close', () => {
      this.closedBy ??= 'destination closed';
      s.end();
      if (s.destroyed) this.#resolveClosed();
    });
  }

  #forward(chunk: Buffer): void {
    if (this.#cut) return;
    this.#queue.push(chunk);
    this.#events.push(...this.#fwd.feed(chunk));
    this.#pump();
  }

  /**
   * Sends queued bytes up to what the parser consumed, stopping at each section start to
   * run its callback first; a pause or cut from a callback stops here.
   */
  #pump(): void {
    while (!this.#paused && !this.#cut) {
      const next = this.#events[0];
      const limit = Math.min(this.#fwd.consumed, next ? next.offset : Infinity);
      if (this.forwarded < limit) {
        this.#sendUpTo(limit);
        continue;
      }
      if (next && this.forwarded === next.offset) {
        this.#events.shift();
        this.#o.onSection?.(next, this);
        continue;
      }
      break;
    }
  }

  #sendUpTo(limit: number): void {
    while (this.forwarded < limit && this.#queue.length && !this.#cut) {
      const head = this.#queue[0]!;
      const n = Math.min(head.length, limit - this.forwarded);
      this.#send(head.subarray(0, n));
      if (n === head.length) this.#queue.shift();
      else this.#queue[0] = head.subarray(n);
    }
  }

  #send(b: Buffer): void {
    const o = this.#o;
    if (o.flipAt !== undefined && !this.flipped && o.flipAt >= this.forwarded && o.flipAt < this.forwarded + b.length) {
      b = Buffer.from(b);
      b[o.flipAt - this.forwarded]! ^= o.flipMask ?? 0xff;
      this.flipped = true;
    }
    if (o.cutAfter !== undefined && this.forwarded + b.length >= o.cutAfter) {
      const n = o.cutAfter - this.forwarded;
      this.#dst!.write(b.subarray(0, n));
      this.forwarded += n;
      this.cut();
      return;
    }
    this.#dst!.write(b);
    this.forwarded += b.length;
  }

  /** Stops forwarding the source's bytes (they queue here; TCP back-pressure does the rest). */
  pause(): void {
    this.#paused = true;
    this.#src?.pause();
  }

  resume(): void {
    if (!this.#paused || this.#cut) return;
    this.#paused = false;
    this.#src?.resume();
    this.#pump();
  }

  /** Drops the connection: both sides get a reset, nothing more is forwarded. */
  cut(): void {
    if (this.#cut) return;
    this.#cut = true;
    this.closedBy ??= 'cut';
    this.#src?.resetAndDestroy();
    this.#dst?.resetAndDestroy();
    this.#resolveClosed();
  }

  async close(): Promise<void> {
    this.#src?.destroy();
    this.#dst?.destroy();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }
}
