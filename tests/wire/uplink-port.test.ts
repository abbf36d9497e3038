// The uplink backends in one process, on a real NIC: the native port (native/wire) under
// misuse and lifetime stress, the pcap capture read back by tcpdump, the replay's counting
// (loops, stop, a full FIFO), the fd watcher, and TAP errors. End-to-end behaviour through
// guest runners is in tests/e2e.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { loadAddon, repoRoot } from '../../mediator/native/addon.js';
import { PcapReplay, wireTimeNs } from '../../mediator/wire/pcap-replay.js';
import { createWire, tapOpen, watchFd } from '../../mediator/wire/wire-native.js';
import { tcpdumpFrames } from '../e2e/helpers/pcap.js';

const addon = loadAddon();
const dir = mkdtempSync(join(tmpdir(), 'vfmed-wire-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bcast = (n: number, i: number): Buffer => {
  const f = Buffer.alloc(n, i & 0xff);
  f.fill(0xff, 0, 6);
  return f;
};

describe('native uplink port', () => {
  it('a Wire whose NIC is destroyed first is torn down with it, and says so afterwards', () => {
    const nic = new addon.Nic({ maxVfs: 1 });
    const w = createWire(nic);
    w.captureStart(join(dir, 'lifetime.pcap'));
    nic.destroy();
    expect(() => w.stats()).toThrow(expect.objectContaining({ code: 'VFMED_ERR_DESTROYED' }) as Error);
    w.destroy(); // idempotent, no double free
    expect(() => createWire(nic)).toThrow(/destroyed/);
  });

  it('refuses a second capture, a bad path and a bad snaplen; checks argument types', () => {
    const nic = new addon.Nic({ maxVfs: 1 });
    const w = createWire(nic);
    try {
      expect(() => w.captureStart('/nonexistent/dir/x.pcap')).toThrow(expect.objectContaining({ code: 'ENOENT', syscall: 'vfmed_wire_capture_start' }) as Error);
      expect(() => w.captureStart(join(dir, 'x.pcap'), 5)).toThrow(expect.objectContaining({ code: 'EINVAL' }) as Error);
      w.captureStart(join(dir, 'x.pcap'));
      expect(() => w.captureStart(join(dir, 'y.pcap'))).toThrow(expect.objectContaining({ code: 'EBUSY' }) as Error);
      w.captureStop();
      expect(() => w.captureStop()).toThrow(expect.objectContaining({ code: 'ENOENT' }) as Error);
      expect(() => w.tapDetach()).toThrow(expect.objectContaining({ code: 'ENOENT' }) as Error);
      expect(() => w.tapAttach(-3)).toThrow(RangeError);
      expect(() => (w.captureStart as (p: unknown) => void)(42)).toThrow(TypeError);
      expect(() => new (addon as unknown as { wire: { Wire: new (x: unknown) => unknown } }).wire.Wire({})).toThrow(TypeError);
    } finally {
      w.destroy();
      nic.destroy();
    }
  });

  it('counts ingress no VF takes as filtered', () => {
    const nic = new addon.Nic({ maxVfs: 1 });
    const w = createWire(nic);
    try {
      for (let i = 0; i < 5; i++) nic.uplinkInject(bcast(60, i));
      const s = w.stats();
      expect(s.uplinkRxFrames).toBe(5n);
      expect(s.uplinkRxFiltered).toBe(5n); // no VF is enabled: nobody takes them
      expect(s.egressFrames).toBe(0n);
    } finally {
      w.destroy();
      nic.destroy();
    }
  });

  it('writes a pcap file tcpdump reads, even an empty one', () => {
    const nic = new addon.Nic({ maxVfs: 1 });
    const w = createWire(nic);
    const f = join(dir, 'empty.pcap');
    w.captureStart(f, 128);
    w.captureFlush();
    expect(tcpdumpFrames(f)).toEqual([]);
    w.destroy();
    nic.destroy();
  });

  it('FdWatch calls back from the event loop when an eventfd is written', async () => {
    const fd = addon.eventfdCreate();
    const seen: bigint[] = [];
    await new Promise<void>((resolve) => {
      const watch = watchFd(fd, (errno) => {
        expect(errno).toBe(0);
        seen.push(addon.eventfdRead(fd)!);
        if (seen.length === 2) {
          watch.close();
          resolve();
        } else {
          addon.eventfdWrite(fd, 5n);
        }
      });
      addon.eventfdWrite(fd, 3n);
    });
    expect(seen).toEqual([3n, 5n]);
    addon.close(fd);
    expect(() => watchFd(-1, () => {})).toThrow(RangeError);
  });

  it('opening a TAP without CAP_NET_ADMIN is EPERM (run as an unprivileged user)', () => {
    const code = `import('${join(repoRoot(), 'dist/mediator/wire/wire-native.js')}').then((m) => {
      try { m.tapOpen('vfmedx'); console.log('opened'); } catch (e) { console.log(e.code, e.syscall); } })`;
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', ...asNobody });
    expect(r.stdout.trim()).toMatch(/^(EPERM|EACCES) vfmed_tap_open$/); // TUNSETIFF, or /dev/net/tun itself
  });

  it('refuses an interface name that is too long or has a slash', () => {
    expect(() => tapOpen('a-name-far-too-long')).toThrow(RangeError);
    expect(() => tapOpen('a/b')).toThrow(RangeError);
  });
});

describe('pcap replay', () => {
  it('injects every frame of every pass, in order, then resolves done', async () => {
    const nic = new addon.Nic({ maxVfs: 1 });
    const w = createWire(nic);
    try {
      const frames = [bcast(60, 1), bcast(100, 2), bcast(1514, 3)];
      const r = new PcapReplay(nic, { frames, rate: 'max', loop: 3, name: 't' }).start();
      const s = await r.done;
      expect(s).toMatchObject({ state: 'done', injected: 9, dropped: 0, passes: 3, bytes: 3 * (60 + 100 + 1514), error: null });
      expect(w.stats().uplinkRxFrames).toBe(9n);
    } finally {
      w.destroy();
      nic.destroy();
    }
  });

  it('paces at a given rate and stops on request (loop 0 = until stopped)', async () => {
    const nic = new addon.Nic({ maxVfs: 1 });
    try {
      const r = new PcapReplay(nic, { frames: [bcast(60, 1)], rate: 1000, loop: 0 }).start();
      await new Promise((res) => setTimeout(res, 50));
      r.stop();
      const s = await r.done;
      expect(s.state).toBe('stopped');
      // 1000 pps for ~50 ms: a few dozen, certainly not thousands (no timing asserted beyond that)
      expect(s.injected).toBeGreaterThan(0);
      expect(s.injected).toBeLessThan(1000);
    } finally {
      nic.destroy();
    }
  });

  it('line rate is the wire time of each frame at the link speed', () => {
    expect(wireTimeNs(60, 1e9)).toBe(672);     // 64 B + preamble 8 + IFG 12 = 84 B
    expect(wireTimeNs(42, 1e9)).toBe(672);     // padded to the minimum
    expect(wireTimeNs(1514, 1e9)).toBe(12304); // 1538 B on the wire
    expect(wireTimeNs(1514, 10e9)).toBeCloseTo(1230.4);
  });

  it('refuses bad options', () => {
    const nic = new addon.Nic({ maxVfs: 1 });
    try {
      expect(() => new PcapReplay(nic, { frames: [] })).toThrow(/no frames/);
      expect(() => new PcapReplay(nic, { frames: [bcast(60, 1)], rate: 0 })).toThrow(RangeError);
      expect(() => new PcapReplay(nic, { frames: [bcast(60, 1)], loop: -1 })).toThrow(RangeError);
      expect(() => new PcapReplay(nic, { frames: [bcast(60, 1)], linkBps: 0 })).toThrow(RangeError);
    } finally {
      nic.destroy();
    }
  });

  it('a frame the NIC refuses fails the replay with the reason', async () => {
    const nic = new addon.Nic({ maxVfs: 1 });
    try {
      const r = new PcapReplay(nic, { frames: [Buffer.alloc(10)], rate: 'max' }).start();
      const s = await r.done;
      expect(s.state).toBe('failed');
      expect(s.error).toMatch(/vfmed_uplink_inject: EINVAL/);
    } finally {
      nic.destroy();
    }
  });
});
