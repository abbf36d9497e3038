// Life cycle of a Nic handle (native/addon/nic_wrap.cc): construction, BAR fds that can be
// mapped, introspection types, destroy() idempotent, every method of a destroyed handle a
// clear VFMED_ERR_DESTROYED error, and handles dropped without destroy() released by the
// finalizer (which must not double-free after an explicit destroy()).
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { VfmedError } from '../../mediator/errors.js';
import { loadAddon, type NativeNic } from '../../mediator/native/addon.js';

const os = loadAddon();
const VFPF_MAGIC = 0x46504656;
const VFPF_BAR_SIZE = 0x10000;
const VF_BAR0_SIZE = 0x4000;

function gc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

describe('Nic life cycle', () => {
  it('exposes maxVfs and mappable BARs', () => {
    const nic = new os.Nic({ maxVfs: 3 });
    try {
      expect(nic.maxVfs).toBe(3);
      const pf = new DataView(os.mmapShared(nic.pfBarFd(), VFPF_BAR_SIZE, 0n));
      expect(pf.getUint32(0, true)).toBe(VFPF_MAGIC);
      for (let vf = 0; vf < 3; vf++) {
        const fd = nic.vfBarFd(vf);
        expect(fd).toBeGreaterThanOrEqual(0);
        const bar = os.mmapShared(fd, VF_BAR0_SIZE, 0n);
        expect(bar.byteLength).toBe(VF_BAR0_SIZE);
        os.munmap(bar);
      }
      expect(nic.pfBarPath()).toBeNull(); // memfd BARs without shmDir
      expect(nic.vfBarPath(0)).toBeNull();
      os.munmap(pf.buffer as ArrayBuffer);
    } finally {
      nic.destroy();
    }
  });

  it('creates BAR files under shmDir, refuses to share them, removes them on destroy', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vfmed-addon-'));
    try {
      const nic = new os.Nic({ maxVfs: 2, shmDir: dir, shmPrefix: 'lc' });
      const pfPath = nic.pfBarPath();
      const vfPath = nic.vfBarPath(1);
      expect(pfPath).toMatch(new RegExp(`^${dir}/lc-`));
      expect(vfPath).toMatch(new RegExp(`^${dir}/lc-`));
      expect(vfPath).not.toBe(pfPath);
      expect(existsSync(pfPath!) && existsSync(vfPath!)).toBe(true);
      // a second instance with the same prefix would silently share the BARs: refused
      expect(() => new os.Nic({ maxVfs: 2, shmDir: dir, shmPrefix: 'lc' }))
        .toThrow(expect.objectContaining({ code: 'EEXIST', syscall: 'vfmed_nic_create' }));
      nic.destroy();
      expect(existsSync(pfPath!) || existsSync(vfPath!)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports VF info with bigint counters and two queues', () => {
    const nic = new os.Nic({ maxVfs: 2, baseMac: Uint8Array.of(2, 0, 0, 0, 0x10, 0) });
    try {
      const info = nic.vfInfo(1);
      for (const k of ['fifoDrops', 'dmaErrors', 'txErrors', 'rxPackets', 'txPackets', 'rxBytes', 'txBytes'] as const) {
        expect(typeof info[k]).toBe('bigint');
      }
      expect(info.mac).toBeInstanceOf(Uint8Array);
      expect(info.mac.length).toBe(6);
      expect(info.queues).toHaveLength(2);
      expect(typeof info.queues[1].rxEnabled).toBe('boolean');
      expect(info.enabled).toBe(false); // no VF exists before the PF driver enables SR-IOV
    } finally {
      nic.destroy();
    }
  });

  it('returns null from uplinkTake when nothing was sent to the uplink', () => {
    const nic = new os.Nic({ maxVfs: 1 });
    try {
      expect(nic.uplinkTake()).toBeNull();
    } finally {
      nic.destroy();
    }
  });

  it('returns a truth bitmap of one bit per 4 KiB page', () => {
    const nic = new os.Nic({ maxVfs: 1 });
    const fd = os.memfdCreate('truth', 64n * 4096n);
    try {
      nic.vfDmaMap(0, 0x100000n, 64n * 4096n, fd, 0n, 3);
      const bm = nic.truthRead(0, 0x100000n, 64n * 4096n, true);
      expect(Buffer.isBuffer(bm)).toBe(true);
      expect(bm.length).toBe(8);
      expect(bm.every((b) => b === 0)).toBe(true); // the device wrote nothing yet
    } finally {
      nic.destroy();
      os.close(fd);
    }
  });

  it('start and stop the device thread repeatedly; destroy stops a running one', () => {
    const nic = new os.Nic({ maxVfs: 1 });
    nic.start();
    nic.start(); // idempotent
    nic.kick();
    nic.stop();
    expect(nic.poll()).toBeGreaterThanOrEqual(0);
    nic.start();
    nic.destroy();
  });

  it('destroy is idempotent and keeps maxVfs readable', () => {
    const nic = new os.Nic({ maxVfs: 2 });
    nic.destroy();
    nic.destroy();
    expect(nic.maxVfs).toBe(2);
  });

  const calls: [string, (n: NativeNic) => unknown][] = [
    ['pfBarFd', (n) => n.pfBarFd()],
    ['vfBarFd', (n) => n.vfBarFd(0)],
    ['pfBarPath', (n) => n.pfBarPath()],
    ['vfBarPath', (n) => n.vfBarPath(0)],
    ['pfDmaMap', (n) => n.pfDmaMap(0n, 4096n, 0, 0n)],
    ['pfDmaUnmap', (n) => n.pfDmaUnmap(0n, 4096n)],
    ['vfDmaMap', (n) => n.vfDmaMap(0, 0n, 4096n, 0, 0n, 3)],
    ['vfDmaUnmap', (n) => n.vfDmaUnmap(0, 0n, 4096n)],
    ['vfDmaUnmapAll', (n) => n.vfDmaUnmapAll(0)],
    ['vfRegRead', (n) => n.vfRegRead(0, 0, 4)],
    ['vfRegWrite', (n) => n.vfRegWrite(0, 0, 4, 0n)],
    ['vfRead32', (n) => n.vfRead32(0, 0)],
    ['vfWrite32', (n) => n.vfWrite32(0, 0, 0)],
    ['vfSetIrqFd', (n) => n.vfSetIrqFd(0, 0, -1)],
    ['setPfEventFd', (n) => n.setPfEventFd(-1)],
    ['poll', (n) => n.poll()],
    ['start', (n) => n.start()],
    ['stop', (n) => n.stop()],
    ['kick', (n) => n.kick()],
    ['uplinkInject', (n) => n.uplinkInject(new Uint8Array(60))],
    ['uplinkTake', (n) => n.uplinkTake()],
    ['truthRead', (n) => n.truthRead(0, 0n, 4096n, false)],
    ['vfInfo', (n) => n.vfInfo(0)],
  ];
  it.each(calls)('%s on a destroyed NIC is VFMED_ERR_DESTROYED', (name, call) => {
    const nic = new os.Nic({ maxVfs: 1 });
    nic.destroy();
    let err: unknown;
    try {
      call(nic);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VfmedError);
    expect((err as VfmedError).code).toBe('VFMED_ERR_DESTROYED');
    expect((err as VfmedError).errno).toBe(os.errnos['ENODEV']);
    expect((err as Error).message).toBe(`Nic.${name}: the NIC was destroyed`);
  });

  it('handles dropped without destroy are released by the finalizer', async () => {
    // Each NIC owns BAR memfds and (once started) a device thread: if the finalizer did
    // not release them, 100 NICs of 8 VFs would leave ~900 fds and 50 threads behind.
    const before = openFds();
    for (let i = 0; i < 100; i++) {
      const nic = new os.Nic({ maxVfs: 8 });
      if (i % 2) nic.start();
      if (i % 3 === 0) nic.destroy(); // and the finalizer must not release these again
    }
    for (let i = 0; i < 5 && openFds() > before + 8; i++) {
      gc();
      await new Promise((r) => setImmediate(r));
    }
    expect(openFds()).toBeLessThanOrEqual(before + 8);
  });
});

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}
