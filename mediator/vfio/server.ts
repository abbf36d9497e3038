/**
 * The vfio-user server of one device: one UNIX socket (0600), at most one client.
 *
 *   listen() ─▶ client A connects ─▶ attached (VfioConnection: dispatcher + device)
 *                 client B connects ─▶ refused: EBUSY to its first message, then closed
 *               A disconnects ─▶ device.release() (DMA windows, IRQ eventfds) ─▶ free
 *                 the next client can attach
 *
 * Each VF gets its own server, so a misbehaving client of one VF (malformed messages,
 * a flood, a disconnect mid-message) only ever reaches that VF's connection; every error
 * is answered or contained per connection and the event loop is never blocked.
 *
 * Events: 'attach' (peer), 'detach' (errno, releaseError), 'refuse' (peer).
 * Diagnostics: channel 'vfmed:vfio-user:connection' gets { device, path, event, peer }.
 */
import diagnostics_channel from 'node:diagnostics_channel';
import { EventEmitter } from 'node:events';
import { RefusedConnection, VfioConnection, type ConnectionLogger } from './connection.js';
import type { VfioDevice } from './device.js';
import { loadTransport, type NativeConnection, type NativeListener, type NativeTransport, type PeerCred } from './transport-native.js';

export const connectionChannel = diagnostics_channel.channel('vfmed:vfio-user:connection');

const silent: ConnectionLogger = { debug() {}, warn() {}, error() {} };

export interface VfioUserServerOptions {
  /** socket path (created 0600; a stale socket there is replaced, a live one is EADDRINUSE) */
  path: string;
  device: VfioDevice;
  /** injectable for tests; default: the addon's transport */
  transport?: NativeTransport;
  /** pino-compatible */
  logger?: ConnectionLogger & { info?(obj: object, msg: string): void };
  /** refused connections kept open to receive their EBUSY at once (more are closed) */
  maxRefusing?: number;
}

export class VfioUserServer extends EventEmitter {
  readonly path: string;
  readonly device: VfioDevice;
  private readonly transport: NativeTransport;
  private readonly log: ConnectionLogger & { info?(obj: object, msg: string): void };
  private readonly maxRefusing: number;
  private listener: NativeListener | null = null;
  private client: VfioConnection | null = null;
  private readonly refusing = new Set<RefusedConnection>();

  constructor(opts: VfioUserServerOptions) {
    super();
    this.path = opts.path;
    this.device = opts.device;
    this.transport = opts.transport ?? loadTransport();
    this.log = opts.logger ?? silent;
    this.maxRefusing = opts.maxRefusing ?? 4;
  }

  /** Creates the socket; throws VfmedSystemError (EADDRINUSE, EEXIST, EACCES...). */
  listen(): this {
    if (this.listener) throw new Error(`vfio-user server ${this.path} already listening`);
    this.listener = new this.transport.Listener(this.path, (c) => this.onConnection(c));
    this.log.info?.({ path: this.path, device: this.device.name }, 'vfio-user: listening');
    return this;
  }

  get listening(): boolean {
    return this.listener !== null && !this.listener.closed;
  }

  /** The attached client, if any. */
  get attached(): VfioConnection | null {
    return this.client;
  }

  /** Stops listening and disconnects every client (the device is released). Resolves when
   * the connections are closed. */
  async close(): Promise<void> {
    this.listener?.close();
    this.listener = null;
    const waits: Promise<number>[] = [];
    if (this.client) {
      waits.push(this.client.closed);
      this.client.destroy();
    }
    for (const r of this.refusing) {
      waits.push(r.closed);
      r.destroy();
    }
    await Promise.all(waits);
  }

  private onConnection(raw: NativeConnection): void {
    const peer = raw.peer;
    if (this.client) {
      this.refuse(raw, peer);
      return;
    }
    try {
      this.device.open?.(); // the device is opened per client (mediate-ops drivers are asked here)
    } catch (e) {
      this.log.error({ err: e, device: this.device.name, peer }, 'vfio-user: opening the device failed, client refused');
      raw.destroy();
      return;
    }
    const conn = new VfioConnection(raw, this.device, this.log, (errno, releaseError) => {
      if (this.client === conn) this.client = null;
      this.log.info?.({ device: this.device.name, errno, peer }, 'vfio-user: client detached');
      this.publish('detach', peer);
      this.emit('detach', errno, releaseError);
    });
    this.client = conn;
    conn.start();
    this.log.info?.({ device: this.device.name, peer }, 'vfio-user: client attached');
    this.publish('attach', peer);
    this.emit('attach', peer);
  }

  private refuse(raw: NativeConnection, peer: PeerCred | null): void {
    this.log.warn({ device: this.device.name, peer }, 'vfio-user: device busy, refusing a second client');
    this.publish('refuse', peer);
    this.emit('refuse', peer);
    if (this.refusing.size >= this.maxRefusing) {
      raw.destroy(); // a crowd of would-be clients gets no explanation, only EOF
      return;
    }
    const r: RefusedConnection = new RefusedConnection(raw, this.log, () => this.refusing.delete(r));
    this.refusing.add(r);
    r.start();
  }

  private publish(event: 'attach' | 'detach' | 'refuse', peer: PeerCred | null): void {
    if (connectionChannel.hasSubscribers) connectionChannel.publish({ device: this.device.name, path: this.path, event, peer });
  }
}
