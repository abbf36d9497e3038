// Two "hosts" on one L2 segment for the live-migration end-to-end tests: each host is a
// network namespace with a Linux bridge, a `vfmed start` daemon running inside it whose TAP
// uplink is a port of that bridge, and guest runners started inside it. A veth pair joins
// the bridges; a client namespace (ping) and the test process itself (the TCP fault proxy)
// each have a port on bridge A:
//
//   ns A (10.77.X.1 on brA)              ns B (10.77.X.2 on brB)          ns C (client)
//   daemon A ─ vfmtap ─┐                 daemon B ─ vfmtap ─┐             c0 10.77.X.4
//                     brA ── vethab ═══ vethba ─────────── brB               ║
//                      ├── vethc ══════════════════════════════════════════════╝
//                      └── vethr ═══ vfm<tag> 10.77.X.3 (root ns: this test process)
//
// Names are unique per run (the pid is in them), the subnet is one no interface of the
// root namespace uses. destroy() kills every process the pair started, stops the daemons
// and deletes the namespaces (their veths go with them); an exit hook does the same if
// the test process ends first, and start-up removes namespaces left by a dead run.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GuestProcess, guestBinaryPath, type GuestLine } from '../../../mediator/guest/guest-process.js';
import { DaemonProc } from './daemon-proc.js';

const NS_PREFIX = 'vfmig';
const TAP = 'vfmtap';
const BRIDGE = 'br0';
const TAP_QUEUE = 20_000;

/** Runs `ip args...`; throws with ip's own message. */
export function ip(...args: string[]): string {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 10_000 });
  if (r.error) throw new Error(`ip ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')} failed (${r.status}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** What a host run needs from the machine; a clear error instead of a skipped test. */
export function requireNetAdmin(): void {
  if (process.getuid?.() !== 0) {
    throw new Error('the live-migration e2e tests need root (ip netns, bridges, /dev/net/tun): run them as root');
  }
  for (const [cmd, arg, pkg] of [['ip', '-V', 'iproute2'], ['ping', '-V', 'iputils-ping']] as const) {
    const r = spawnSync(cmd, [arg], { encoding: 'utf8' });
    if (r.error || r.status !== 0) throw new Error(`${cmd} is missing: install ${pkg} (scripts/deps.d/40-e2e.sh)`);
  }
}

// ---- leftovers --------------------------------------------------------------------------

const live = new Set<HostPair>();
let exitHook = false;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function nsPids(ns: string): number[] {
  const r = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split(/\s+/).filter(Boolean).map(Number) : [];
}

/** Kills what runs inside `ns` and deletes it (synchronous: usable from an exit hook). */
function deleteNs(ns: string): void {
  for (const pid of nsPids(ns)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch { /* gone */ }
  }
  spawnSync('ip', ['netns', 'del', ns]);
}

/** Namespaces of this suite whose creating process is gone: a run that was killed. */
function reapStale(): void {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  for (const line of r.stdout?.split('\n') ?? []) {
    const m = new RegExp(`^(${NS_PREFIX}(\\d+)-\\w+)`).exec(line);
    if (m && !pidAlive(Number(m[2]))) deleteNs(m[1]!);
  }
}

function pickSubnet(): number {
  const used = execFileSync('ip', ['-4', '-o', 'addr', 'show'], { encoding: 'utf8' })
    + execFileSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' });
  for (let tries = 0; tries < 64; tries++) {
    const x = 1 + Math.floor(Math.random() * 250);
    if (!used.includes(`10.77.${x}.`)) return x;
  }
  throw new Error('no free 10.77.X.0/24 subnet in the root namespace');
}

// ---- hosts ------------------------------------------------------------------------------

export interface HostConfig {
  /** VFs bound at start */
  vfs: number;
  /** MAC of VF 0 (VF n: + n) */
  baseMac: string;
  /** per-VF MAC overrides, as the config file's `macs` */
  macs?: Record<string, string>;
  /** the config file's `nic` section (maxVfs defaults to vfs) */
  nic?: { rxFifoBytes?: number; maxVfs?: number };
  /** extra `vfmed start` flags */
  args?: string[];
}

export class Host {
  daemon!: DaemonProc;
  readonly guests: GuestProcess[] = [];

  constructor(readonly name: string, readonly ns: string, readonly ip: string, readonly dir: string) {}

  /** `ip netns exec <ns>`: a prefix that execs the command in place (the pid stays its own). */
  get via(): string[] {
    return ['ip', 'netns', 'exec', this.ns];
  }

  vfSocket(vf: number): string {
    return join(this.daemon.runDir, `vf${vf}.sock`);
  }

  /** A path for a runner's monitor socket on this host. */
  monitorPath(tag: string): string {
    return join(this.dir, `${tag}.mon`);
  }

  async startDaemon(c: HostConfig): Promise<void> {
    const cfg = join(this.dir, 'vfmed.json');
    writeFileSync(cfg, JSON.stringify({
      vfs: c.vfs,
      nic: { maxVfs: c.nic?.maxVfs ?? Math.max(c.vfs, 1), ...(c.nic?.rxFifoBytes ? { rxFifoBytes: c.nic.rxFifoBytes } : {}) },
      baseMac: c.baseMac,
      macs: c.macs ?? {},
      uplink: { tap: { name: TAP } },
    }));
    this.daemon = await DaemonProc.start(['--config', cfg, ...(c.args ?? [])], `mig${this.name}`, this.via);
    // The TAP exists once the control socket answers; it becomes a bridge port. Its queue
    // towards the daemon (tun's default: 500 frames) is what a burst from the bridge fills
    // first: room for the catch-up burst of a sender held back during a switchover.
    ip('-n', this.ns, 'link', 'set', TAP, 'master', BRIDGE);
    ip('-n', this.ns, 'link', 'set', TAP, 'txqueuelen', String(TAP_QUEUE));
    ip('-n', this.ns, 'link', 'set', TAP, 'up');
  }

  /** A vfmed-guest runner inside this host's namespace. */
  guest(name: string, args: string[]): GuestProcess {
    const g = GuestProcess.spawn(`${this.name}:${name}`, args, { via: [...this.via, guestBinaryPath()] });
    this.guests.push(g);
    return g;
  }

  async killGuests(): Promise<void> {
    for (const g of this.guests) g.kill('SIGKILL');
    await Promise.all(this.guests.map((g) => g.exited));
    this.guests.length = 0;
  }
}

export interface HostPairOptions {
  a: HostConfig;
  b: HostConfig;
}

export class HostPair {
  readonly tag: string;
  readonly subnet: string;
  readonly a: Host;
  readonly b: Host;
  /** the client namespace (ping) and its address */
  readonly clientNs: string;
  readonly clientIp: string;
  /** this process's address on the segment (root namespace port on bridge A) */
  readonly localIp: string;
  readonly rootIf: string;
  readonly #dir: string;
  readonly #namespaces: string[] = [];
  #destroyed = false;

  private constructor() {
    const n = Math.floor(Math.random() * 1e4);
    this.tag = `${process.pid}-${n}`;
    const x = pickSubnet();
    this.subnet = `10.77.${x}`;
    this.#dir = mkdtempSync(join(tmpdir(), `vfmed-mig-${this.tag}-`));
    const mk = (h: string, last: number): Host => {
      const dir = join(this.#dir, h);
      execFileSync('mkdir', ['-p', dir]);
      return new Host(h, `${NS_PREFIX}${this.tag}-${h}`, `${this.subnet}.${last}`, dir);
    };
    this.a = mk('A', 1);
    this.b = mk('B', 2);
    this.clientNs = `${NS_PREFIX}${this.tag}-C`;
    this.clientIp = `${this.subnet}.4`;
    this.localIp = `${this.subnet}.3`;
    this.rootIf = `vfm${process.pid % 100000}${n % 100}`.slice(0, 15);
  }

  /** Builds the namespaces, bridges and links, then starts both daemons. */
  static async create(o: HostPairOptions): Promise<HostPair> {
    requireNetAdmin();
    reapStale();
    if (!exitHook) {
      exitHook = true;
      process.on('exit', () => {
        for (const p of live) p.destroySync();
      });
    }
    const p = new HostPair();
    live.add(p);
    try {
      p.#network();
      await p.a.startDaemon(o.a);
      await p.b.startDaemon(o.b);
    } catch (e) {
      await p.destroy();
      throw e;
    }
    return p;
  }

  #addNs(ns: string): void {
    ip('netns', 'add', ns);
    this.#namespaces.push(ns);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    // No IPv6: no router solicitations or MLD reports wandering into the guests' counters.
    for (const k of ['all', 'default']) {
      spawnSync('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', `net.ipv6.conf.${k}.disable_ipv6=1`]);
    }
  }

  #network(): void {
    const { a, b } = this;
    for (const ns of [a.ns, b.ns, this.clientNs]) this.#addNs(ns);
    for (const h of [a, b]) {
      ip('-n', h.ns, 'link', 'add', BRIDGE, 'type', 'bridge', 'forward_delay', '0', 'stp_state', '0');
      ip('-n', h.ns, 'addr', 'add', `${h.ip}/24`, 'dev', BRIDGE);
      ip('-n', h.ns, 'link', 'set', BRIDGE, 'up');
    }
    const port = (ns: string, ifname: string): void => {
      ip('-n', ns, 'link', 'set', ifname, 'master', BRIDGE);
      ip('-n', ns, 'link', 'set', ifname, 'up');
    };
    ip('link', 'add', 'vethab', 'netns', a.ns, 'type', 'veth', 'peer', 'name', 'vethba', 'netns', b.ns);
    port(a.ns, 'vethab');
    port(b.ns, 'vethba');
    ip('link', 'add', 'c0', 'netns', this.clientNs, 'type', 'veth', 'peer', 'name', 'vethc', 'netns', a.ns);
    port(a.ns, 'vethc');
    ip('-n', this.clientNs, 'addr', 'add', `${this.clientIp}/24`, 'dev', 'c0');
    ip('-n', this.clientNs, 'link', 'set', 'c0', 'up');
    // The root namespace's port: its veth end dies with namespace A.
    ip('link', 'add', this.rootIf, 'type', 'veth', 'peer', 'name', 'vethr', 'netns', a.ns);
    port(a.ns, 'vethr');
    spawnSync('sysctl', ['-q', '-w', `net.ipv6.conf.${this.rootIf}.disable_ipv6=1`]);
    ip('addr', 'add', `${this.localIp}/24`, 'dev', this.rootIf);
    ip('link', 'set', this.rootIf, 'up');
  }

  /** Runs a command inside the client namespace to completion (bounded). */
  clientRun(cmd: string[], timeoutMs = 30_000): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync('ip', ['netns', 'exec', this.clientNs, ...cmd], { encoding: 'utf8', timeout: timeoutMs });
    return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }

  /**
   * Where frames could have been dropped, for a failure message: each daemon's uplink and
   * VF counters, and the kernel's drop counters of every link in the host namespaces.
   */
  async diagnostics(): Promise<string> {
    const out: string[] = [];
    for (const h of [this.a, this.b]) {
      try {
        const st = await h.daemon.status();
        out.push(`${h.name} uplink ${JSON.stringify(st.uplink.tap)} egress ${JSON.stringify(st.uplink.egress)} `
          + `ingress ${JSON.stringify(st.uplink.ingress)}`);
        for (const v of st.vfs) {
          out.push(`${h.name} vf${v.vf} ${v.mac} client ${v.client?.pid ?? '-'} tx ${v.tx.packets} rx ${v.rx.packets} `
            + `fifoDrops ${v.rx.fifoDrops} dmaErrors ${v.dmaErrors} fifo ${v.fifo.frames}`);
        }
      } catch (e) {
        out.push(`${h.name} status: ${(e as Error).message}`);
      }
      const r = spawnSync('ip', ['-n', h.ns, '-s', '-j', 'link', 'show'], { encoding: 'utf8' });
      try {
        for (const l of JSON.parse(r.stdout) as Array<{ ifname: string; stats64?: { rx: { dropped: number }; tx: { dropped: number } } }>) {
          const s = l.stats64;
          if (s && (s.rx.dropped || s.tx.dropped)) out.push(`${h.name} ${l.ifname} rx_dropped ${s.rx.dropped} tx_dropped ${s.tx.dropped}`);
        }
      } catch { /* no JSON: skip */ }
    }
    return out.join('\n');
  }

  /** Kills the runners, stops the daemons, deletes the namespaces and the temporary files. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    for (const h of [this.a, this.b]) await h.killGuests();
    for (const h of [this.a, this.b]) {
      if (h.daemon) {
        await h.daemon.stop(10_000);
        h.daemon.cleanup();
      }
    }
    this.destroySync();
  }

  destroySync(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    live.delete(this);
    for (const h of [this.a, this.b]) {
      for (const g of h.guests) g.kill('SIGKILL');
      h.daemon?.child.kill('SIGKILL');
    }
    for (const ns of this.#namespaces) deleteNs(ns);
    spawnSync('ip', ['link', 'del', this.rootIf]);
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** The first line of `g` (from index `from`) that satisfies `pred`, polled; bounded. */
export async function waitLine(g: GuestProcess, pred: (l: GuestLine) => boolean, what: string,
  timeoutMs = 20_000, from = 0): Promise<GuestLine> {
  const deadline = Date.now() + timeoutMs;
  let i = from;
  let exited = false;
  void g.exited.then(() => (exited = true));
  for (;;) {
    for (; i < g.lines.length; i++) if (pred(g.lines[i]!)) return g.lines[i]!;
    if (exited) {
      const ex = await g.exited;
      throw new Error(`${g.name} exited (${ex.code ?? ex.signal}) before ${what}: ${ex.stderr.split('\n').slice(-3).join(' | ')}`);
    }
    if (Date.now() > deadline) {
      const last = g.lines.at(-1);
      throw new Error(`${g.name}: no ${what} within ${timeoutMs} ms (last line: ${JSON.stringify(last)?.slice(0, 300)})`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The last `stats` (or `summary`) line's value of `key`, 0 before the first. */
export function lastCounter(g: GuestProcess, key: string): number {
  for (let i = g.lines.length - 1; i >= 0; i--) {
    const l = g.lines[i]!;
    if ((l.type === 'stats' || l.type === 'summary') && typeof l[key] === 'number') return l[key];
  }
  return 0;
}
