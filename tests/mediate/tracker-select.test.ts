// DEVICE_FEATURE 0xf002 VFMED_DIRTY_TRACKER on the wire (docs/live-migration.md, "Tracker
// selection"): GET/SET of the u32 mode, each mode selected and then really used by
// DMA_LOGGING_START/REPORT while the device receives frames into guest memory, EBUSY while
// logging runs, EINVAL for unknown modes and short data, PROBE, the daemon's default.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Daemon } from '../../mediator/daemon/daemon.js';
import { resolveConfig } from '../../mediator/daemon/config.js';
import { RDBAH, RDBAL, RDH, RDLEN, RDT, RXDCTL, SRRCTL, XDCTL_ENABLE } from '../../mediator/hw/vf-regs.js';
import { TestClient } from '../vfio/helpers/client.js';
import { enableMemory, until } from '../vfio/helpers/rig.js';
import { CMD, le, regionAccessPayload } from '../vfio/helpers/wire.js';
import { VfMailbox, frameTo, setBits } from '../pf/pf-rig.js';
import { addon, DaemonRig } from './helpers/daemon-rig.js';
import { FEAT, FEATURE, TI, feature, loggingStart, trapInfo, u32s, u64s } from './helpers/mediate-wire.js';

const EINVAL = 22, EBUSY = 16;
const DIRTY_TRACKER = 0xf002;
const MODE = { 'tail-trap': 0, 'device-log': 1, all: 2 } as const;
const RAM = 0x2000_0000n;
const PAGES = 64;
const RAM_LEN = BigInt(PAGES * 4096);
const DESCS = 16;
const MAC0 = Uint8Array.of(0x02, 0x76, 0x66, 0x4d, 0x00, 0x10); // DaemonRig's VF 0

const getMode = (c: TestClient, argsz = 12) => c.request(CMD.DEVICE_FEATURE, feature(FEAT.GET | DIRTY_TRACKER, Buffer.alloc(0), argsz));
const setMode = (c: TestClient, data: Buffer) => c.request(CMD.DEVICE_FEATURE, feature(FEAT.SET | DIRTY_TRACKER, data));
const start = (c: TestClient) => c.request(CMD.DEVICE_FEATURE, feature(FEAT.SET | FEATURE.DMA_LOGGING_START, loggingStart(4096n, [[RAM, RAM_LEN]])));
const stop = (c: TestClient) => c.request(CMD.DEVICE_FEATURE, feature(FEAT.SET | FEATURE.DMA_LOGGING_STOP));
const report = (c: TestClient) => c.request(CMD.DEVICE_FEATURE, feature(FEAT.GET | FEATURE.DMA_LOGGING_REPORT, u64s(RAM, RAM_LEN, 4096n), 8 + 24 + PAGES / 8));

async function mode(c: TestClient): Promise<number> {
  const r = await getMode(c);
  expect(r.errno).toBe(0);
  expect(r.payload.length).toBe(12);
  return r.payload.readUInt32LE(8);
}

describe('VFMED_DIRTY_TRACKER', () => {
  let rig: DaemonRig;
  let ramFd: number;
  let ram: DataView;
  beforeAll(() => {
    rig = new DaemonRig('tracker', { vfs: 1 });
    ramFd = addon.memfdCreate('tracker-ram', RAM_LEN);
    ram = new DataView(addon.mmapShared(ramFd, PAGES * 4096, 0n));
  });
  afterAll(async () => {
    await rig.close();
    addon.munmap(ram.buffer as ArrayBuffer);
    addon.close(ramFd);
  });

  async function connect(): Promise<TestClient> {
    await until(() => rig.servers[0]!.attached === null, 'the previous client released');
    const c = await TestClient.connect(rig.path(0));
    await enableMemory(c);
    return c;
  }

  it('GET/SET/PROBE rules and bad values', async () => {
    const c = await connect();
    try {
      expect(await mode(c)).toBe(MODE['tail-trap']); // the rig's (daemon's) default
      const probe = feature(FEAT.GET | FEAT.SET | FEAT.PROBE | DIRTY_TRACKER);
      const p = await c.request(CMD.DEVICE_FEATURE, probe);
      expect([p.errno, p.payload]).toEqual([0, probe]);
      expect(await mode(c)).toBe(MODE['tail-trap']); // PROBE changed nothing
      for (const bad of [3, 7, 0xffff_ffff]) expect((await setMode(c, u32s(bad))).errno).toBe(EINVAL);
      expect((await setMode(c, Buffer.alloc(2))).errno).toBe(EINVAL); // shorter than the u32
      expect((await getMode(c, 11)).errno).toBe(EINVAL); // argsz cannot hold the reply
      expect((await c.request(CMD.DEVICE_FEATURE, feature(DIRTY_TRACKER))).errno).toBe(EINVAL); // neither GET nor SET
      expect(await mode(c)).toBe(MODE['tail-trap']);
      for (const m of [2, 1, 0, 1]) {
        expect((await setMode(c, u32s(m))).errno).toBe(0);
        expect(await mode(c)).toBe(m);
      }
      expect(rig.handle(0).status()).toMatchObject({ tracker: 'device-log', logging: false });
    } finally {
      await c.close();
    }
    // The selection belongs to the open: the next client starts from the default again.
    const d = await connect();
    try {
      expect(await mode(d)).toBe(MODE['tail-trap']);
    } finally {
      await d.close();
    }
  });

  it('each mode selected is the one DMA_LOGGING_START/REPORT use; SET is EBUSY while logging runs', async () => {
    const c = await connect();
    const w = async (off: number, v: number) => {
      const r = await c.request(CMD.REGION_WRITE, regionAccessPayload(0, BigInt(off), 4, le(v, 4)));
      expect(r.errno).toBe(0);
    };
    try {
      const m = await c.request(CMD.DMA_MAP, Buffer.from([32, 0, 0, 0, 3, 0, 0, 0, ...Buffer.alloc(8), ...le(RAM, 8), ...le(RAM_LEN, 8)]), { fds: [ramFd] });
      expect(m.errno).toBe(0);
      // igbvf bring-up: reset handshake (the PF enables RX), RX queue 0 with its ring at
      // RAM page 0 and descriptor i's buffer at page 1 + i, every descriptor but one posted.
      new VfMailbox(rig.nic, 0, rig.pf).resetHandshake();
      for (let i = 0; i < DESCS; i++) {
        ram.setBigUint64(i * 16, RAM + BigInt((1 + i) * 4096), true);
        ram.setBigUint64(i * 16 + 8, 0n, true);
      }
      await w(RXDCTL(0), 0);
      await w(RDBAL(0), Number(RAM & 0xffff_ffffn));
      await w(RDBAH(0), Number(RAM >> 32n));
      await w(RDLEN(0), DESCS * 16);
      await w(SRRCTL(0), 0x02000000 | 2);
      await w(RXDCTL(0), XDCTL_ENABLE);
      await w(RDH(0), 0);
      await w(RDT(0), DESCS - 1);

      let next = 0;
      const receiveOne = async (): Promise<number> => {
        const i = next++;
        rig.nic.uplinkInject(frameTo(MAC0, i));
        await until(() => (ram.getUint32(i * 16 + 8, true) & 1) === 1, `frame ${i} received`);
        return i;
      };

      for (const name of ['device-log', 'all', 'tail-trap'] as const) {
        expect((await setMode(c, u32s(MODE[name]))).errno).toBe(0);
        expect(await mode(c)).toBe(MODE[name]);
        expect((await start(c)).errno).toBe(0);
        // What START did is the selected tracker's: only tail-trap traps the queue pages,
        // only device-log runs the PF's device dirty log.
        expect(await trapInfo(c, TI.TRAPPED_PAGES)).toBe(name === 'tail-trap' ? 0xc : 0);
        expect(rig.pf.vfStatus(0).dirtyLog).toBe(name === 'device-log');
        // Switching (to another mode or to the same one) while logging runs: EBUSY.
        for (const other of [0, 1, 2]) expect((await setMode(c, u32s(other))).errno).toBe(EBUSY);
        expect(await mode(c)).toBe(MODE[name]);

        const i = await receiveOne();
        const r = await report(c);
        expect(r.errno).toBe(0);
        const dirty = setBits(r.payload.subarray(8 + 24));
        if (name === 'all') {
          expect(dirty).toEqual(Array.from({ length: PAGES }, (_, p) => p));
        } else {
          // The device wrote descriptor i (ring page 0) and buffer i (page 1 + i): exactly these.
          expect(dirty).toEqual([0, 1 + i]);
        }
        // The report cleared what it returned (except 'all', which reports everything).
        const again = setBits((await report(c)).payload.subarray(8 + 24));
        expect(again.length).toBe(name === 'all' ? PAGES : 0);
        expect((await stop(c)).errno).toBe(0);
        expect(await trapInfo(c, TI.TRAPPED_PAGES)).toBe(0);
        expect(rig.pf.vfStatus(0).dirtyLog).toBe(false);
      }
      // Post the used descriptors back so the ring never runs dry for a later test.
      await w(RDT(0), (next + DESCS - 1) % DESCS);
    } finally {
      await c.close();
    }
  });
});

describe('the daemon default (vfmed start --dirty-tracking / migration.dirtyTracking)', () => {
  it('every open of the daemon starts with its configured tracker', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vfmed-tracker-daemon-'));
    const config = resolveConfig({ runDir: dir, vfs: 1, nic: { maxVfs: 1 }, migration: { dirtyTracking: 'all' } });
    const d = await Daemon.start({ config, log: pino({ level: 'silent' }), noControl: true });
    try {
      const c = await TestClient.connect(d.vfs.socketOf(0));
      try {
        expect(await mode(c)).toBe(MODE.all);
        expect(d.mediate?.handle(0)?.status()).toMatchObject({ tracker: 'all' });
        expect((await setMode(c, u32s(MODE['device-log']))).errno).toBe(0);
        expect(await mode(c)).toBe(MODE['device-log']);
      } finally {
        await c.close();
      }
    } finally {
      await d.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
