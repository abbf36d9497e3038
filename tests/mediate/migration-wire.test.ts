// Migration v2 of a mediated VF over vfio-user: DEVICE_FEATURE MIGRATION / MIG_DEVICE_STATE
// / MIG_DATA_SIZE / PRECOPY_INFO (vfmed extension), MIG_DATA_READ/WRITE, the FSM's arcs and
// refusals, a destination refusing truncated, corrupted or incompatible streams (before any
// downtime for the last), ERROR left only by DEVICE_RESET; and the same device state through
// the v1 migration region.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClient } from '../vfio/helpers/client.js';
import { enableMemory, until } from '../vfio/helpers/rig.js';
import { CMD, le, regionAccessPayload } from '../vfio/helpers/wire.js';
import { DaemonRig } from './helpers/daemon-rig.js';
import { FEAT, FEATURE, MIG_REGION, ST, drain, feature, getState, migRead, migWrite, setState, u32s } from './helpers/mediate-wire.js';

const LAST_ERROR = 0xf003; // vfmed: why the last migration operation failed

const EINVAL = 22, EBADMSG = 74, EPROTO = 71, ENOTTY = 25;

let src: DaemonRig, dst: DaemonRig, small: DaemonRig;
beforeAll(() => {
  src = new DaemonRig('mig-src', { vfs: 2 });
  dst = new DaemonRig('mig-dst', { vfs: 2 });
  small = new DaemonRig('mig-small', { vfs: 1, rxFifoBytes: 32 * 1024 });
});
afterAll(async () => {
  await Promise.all([src.close(), dst.close(), small.close()]);
});

async function open(rig: DaemonRig, vf: number): Promise<TestClient> {
  await until(() => rig.servers[vf]!.attached === null, 'previous client released');
  const c = await TestClient.connect(rig.path(vf));
  await enableMemory(c);
  return c;
}

/** Gives VF `vf` of `rig` some state worth migrating: PSRTYPE and a queue programmed. */
async function program(c: TestClient, psrtype: number): Promise<void> {
  for (const [off, v] of [[0xf0c, psrtype], [0x3800, 0x10000], [0x3808, 0x400], [0x2808, 0x800]] as const) {
    const r = await c.request(CMD.REGION_WRITE, regionAccessPayload(0, BigInt(off), 4, le(v, 4)));
    if (r.errno) throw new Error(`write 0x${off.toString(16)}: errno ${r.errno}`);
  }
}

const regRead = async (c: TestClient, off: number) =>
  (await c.request(CMD.REGION_READ, regionAccessPayload(0, BigInt(off), 4))).payload.readUInt32LE(16);

describe('migration v2 over vfio-user', () => {
  it('features: MIGRATION flags, GET/SET/PROBE rules, MIG_DATA_SIZE, unknown features', async () => {
    const c = await open(src, 0);
    try {
      let r = await c.request(CMD.DEVICE_FEATURE, feature(FEAT.GET | FEATURE.MIGRATION, Buffer.alloc(0), 16));
      expect(r.errno).toBe(0);
      expect(r.payload.readBigUInt64LE(8)).toBe(7n); // STOP_COPY | P2P | PRE_COPY
      expect((await c.request(CMD.DEVICE_FEATURE, feature(FEAT.SET | FEATURE.MIGRATION, Buffer.alloc(8)))).errno).toBe(EINVAL);
      expect((await c.request(CMD.DEVICE_FEATURE, feature(FEAT.GET | FEATURE.MIGRATION, Buffer.alloc(0), 12))).errno).toBe(EINVAL); // argsz
      const probe = feature(FEAT.GET | FEAT.SET | FEAT.PROBE | FEATURE.MIG_DEVICE_STATE);
      expect((await c.request(CMD.DEVICE_FEATURE, probe)).payload).toEqual(probe);
      expect((await c.request(CMD.DEVICE_FEATURE, feature(FEAT.SET | FEAT.PROBE | FEATURE.MIGRATION))).errno).toBe(EINVAL);
      expect((await c.request(CMD.DEVICE_FEATURE, feature(FEAT.PROBE | FEATURE.DMA_LOGGING_REPORT))).errno).toBe(0);
      expect((await c.request(CMD.DEVICE_FEATURE, feature(FEAT.GET | 3, Buffer.alloc(0), 16))).errno).toBe(ENOTTY); // LOW_POWER_ENTRY
      r = await c.request(CMD.DEVICE_FEATURE, feature(FEAT.GET | FEATURE.MIG_DATA_SIZE, Buffer.alloc(0), 16));
      expect(r.errno).toBe(0);
      expect(Number(r.payload.readBigUInt64LE(8))).toBeGreaterThan(64);
      const g = await c.request(CMD.DEVICE_FEATURE, feature(FEAT.GET | FEATURE.MIG_DEVICE_STATE, Buffer.alloc(0), 16));
      expect([g.payload.readUInt32LE(8), g.payload.readInt32LE(12)]).toEqual([ST.RUNNING, -1]);
      // PRECOPY_INFO only in PRE_COPY states; MIG_DATA_* only in their states.
      expect((await c.request(CMD.DEVICE_FEATURE, feature(FEAT.GET | FEATURE.PRECOPY_INFO, Buffer.alloc(0), 24))).errno).toBe(EINVAL);
      expect((await migRead(c, 16)).errno).toBe(EINVAL);
      expect((await migWrite(c, Buffer.alloc(4))).errno).toBe(EINVAL);
      expect((await setState(c, ST.ERROR)).errno).toBe(EINVAL);
      expect((await setState(c, 8)).errno).toBe(EINVAL);
      expect(await getState(c)).toBe(ST.RUNNING);
    } finally {
      await c.close();
    }
  });

  it('PRE_COPY -> STOP_COPY -> RESUMING on another daemon: initial data, no-more-for-now, end of stream', async () => {
    const s = await open(src, 0);
    const d = await open(dst, 0);
    try {
      await program(s, 0x5a);
      expect((await setState(s, ST.PRE_COPY)).errno).toBe(0);
      let info = await s.request(CMD.DEVICE_FEATURE, feature(FEAT.GET | FEATURE.PRECOPY_INFO, Buffer.alloc(0), 24));
      const initial = Number(info.payload.readBigUInt64LE(8));
      expect(initial).toBeGreaterThan(16);
      expect(info.payload.readBigUInt64LE(16)).toBe(0n);
      const first = await migRead(s, 10);
      expect(first.data.length).toBe(10);
      info = await s.request(CMD.DEVICE_FEATURE, feature(FEAT.GET | FEATURE.PRECOPY_INFO, Buffer.alloc(0), 24));
      expect(Number(info.payload.readBigUInt64LE(8))).toBe(initial - 10);
      const rest = await drain(s);
      expect(first.data.length + rest.length).toBe(initial);
      expect((await migRead(s, 64)).data.length).toBe(0); // no more for now: still PRE_COPY
      expect(await getState(s)).toBe(ST.PRE_COPY);
      // The destination takes the initial data while the source still runs.
      expect((await setState(d, ST.RESUMING)).errno).toBe(0);
      expect((await migWrite(d, Buffer.concat([first.data, rest]))).errno).toBe(0);
      // STOP_COPY -> PRE_COPY is refused at once, without changing anything.
      expect((await setState(s, ST.STOP_COPY)).errno).toBe(0);
      expect((await setState(s, ST.PRE_COPY)).errno).toBe(EINVAL);
      expect(await getState(s)).toBe(ST.STOP_COPY);
      const size = (await s.request(CMD.DEVICE_FEATURE, feature(FEAT.GET | FEATURE.MIG_DATA_SIZE, Buffer.alloc(0), 16))).payload.readBigUInt64LE(8);
      const state = await drain(s, 1000);
      expect(BigInt(state.length)).toBe(size);
      expect((await migRead(s, 64)).data.length).toBe(0); // end of stream, and it stays so
      expect((await migRead(s, 64)).data.length).toBe(0);
      for (let at = 0; at < state.length; at += 700) expect((await migWrite(d, state.subarray(at, at + 700))).errno).toBe(0);
      expect((await setState(d, ST.RUNNING)).errno).toBe(0); // RESUMING -> STOP (load) -> RUNNING_P2P -> RUNNING
      expect(await regRead(d, 0xf0c)).toBe(0x5a);
      expect(await regRead(d, 0x3808)).toBe(0x400);
      expect((await setState(s, ST.STOP)).errno).toBe(0);
      expect(src.handle(0).status()).toMatchObject({ trapped: false, migration: 'STOP' });
    } finally {
      await s.close();
      await d.close();
    }
  });

  async function resumingWith(bytes: Buffer): Promise<{ write: number; stop: number; state: number; psrtype: number }> {
    const d = await open(dst, 1);
    try {
      await program(d, 0x77);
      expect((await setState(d, ST.RESUMING)).errno).toBe(0);
      let write = 0;
      for (let at = 0; at < bytes.length && !write; at += 512) write = (await migWrite(d, bytes.subarray(at, at + 512))).errno;
      const stop = (await setState(d, ST.STOP)).errno;
      const state = await getState(d);
      const psrtype = await regRead(d, 0xf0c);
      if (stop) {
        // Still RESUMING with the same refused stream: every way out passes RESUMING -> STOP
        // again, so only DEVICE_RESET recovers the VF.
        expect((await setState(d, ST.RUNNING)).errno).toBe(stop);
        expect((await d.request(CMD.DEVICE_RESET)).errno).toBe(0);
        expect(await getState(d)).toBe(ST.RUNNING);
      } else {
        expect((await setState(d, ST.RUNNING)).errno).toBe(0);
      }
      return { write, stop, state, psrtype };
    } finally {
      await d.close();
    }
  }

  async function sourceStream(): Promise<Buffer> {
    const s = await open(src, 1);
    try {
      await program(s, 0x33);
      expect((await setState(s, ST.STOP_COPY)).errno).toBe(0);
      const b = await drain(s);
      expect((await setState(s, ST.RUNNING)).errno).toBe(0); // a source whose destination failed runs on
      return b;
    } finally {
      await s.close();
    }
  }

  it('RESUMING -> STOP refuses truncated and corrupted streams and leaves the destination VF untouched', async () => {
    const good = await sourceStream();
    const truncated = await resumingWith(good.subarray(0, good.length - 20));
    expect(truncated).toMatchObject({ write: 0, stop: EBADMSG, state: ST.RESUMING, psrtype: 0x77 });
    const bad = Buffer.from(good);
    bad[bad.length - 40]! ^= 0x01; // inside the VF state section: its CRC no longer matches
    const corrupted = await resumingWith(bad);
    expect(corrupted.write).toBe(EBADMSG); // refused as it arrives
    expect(corrupted).toMatchObject({ stop: EBADMSG, state: ST.RESUMING, psrtype: 0x77 });
    expect(dst.driverErrors.some((e) => /checksum/.test(e.message))).toBe(true);
    const ok = await resumingWith(good);
    expect(ok).toMatchObject({ write: 0, stop: 0, state: ST.STOP, psrtype: 0x33 });
  });

  it('an incompatible destination refuses the stream during PRE_COPY, naming the parameter', async () => {
    const s = await open(src, 1);
    const d = await open(small, 0);
    try {
      expect((await setState(s, ST.PRE_COPY)).errno).toBe(0);
      const initial = await drain(s);
      expect((await setState(d, ST.RESUMING)).errno).toBe(0);
      const lastError = (argsz: number) => d.request(CMD.DEVICE_FEATURE, feature(FEAT.GET | LAST_ERROR, Buffer.alloc(0), argsz));
      expect((await lastError(8 + 512)).payload.subarray(8).toString()).toBe(''); // nothing failed yet
      expect((await migWrite(d, initial)).errno).toBe(EPROTO);
      expect(small.driverErrors.at(-1)?.message).toMatch(/incompatible destination: rxFifoBytes: source RX FIFO 65536 bytes exceeds destination's 32768/);
      // The client only got EPROTO; DEVICE_FEATURE LAST_ERROR gives it the reason, cut to argsz.
      const why = await lastError(8 + 512);
      expect(why.errno).toBe(0);
      expect(why.payload.subarray(8).toString()).toMatch(/^MIG_DATA_WRITE: .*incompatible destination: rxFifoBytes: source RX FIFO 65536 bytes exceeds destination's 32768/);
      expect((await lastError(8 + 16)).payload.subarray(8).toString()).toBe('MIG_DATA_WRITE: ');
      expect((await d.request(CMD.DEVICE_FEATURE, feature(FEAT.SET | LAST_ERROR, Buffer.alloc(4)))).errno).toBe(EINVAL); // GET only
      // The source never stopped: back to RUNNING.
      expect(await getState(s)).toBe(ST.PRE_COPY);
      expect((await setState(s, ST.RUNNING)).errno).toBe(0);
      expect(src.handle(1).status()).toMatchObject({ trapped: false, migration: 'RUNNING' });
    } finally {
      await s.close();
      await d.close();
    }
  });

  it('ERROR is left only by DEVICE_RESET', async () => {
    const s = await open(src, 1);
    try {
      src.pf.sriovEnable(0); // the VF disappears under the migration: quiesce fails
      expect((await setState(s, ST.STOP_COPY)).errno).not.toBe(0);
      expect(await getState(s)).toBe(ST.ERROR);
      expect((await setState(s, ST.RUNNING)).errno).toBe(EINVAL);
      src.pf.sriovEnable(2);
      expect((await s.request(CMD.DEVICE_RESET)).errno).toBe(0);
      expect(await getState(s)).toBe(ST.RUNNING);
      expect((await setState(s, ST.STOP)).errno).toBe(0);
      expect((await setState(s, ST.RUNNING)).errno).toBe(0);
    } finally {
      await s.close();
    }
  });

  it('MIG_DATA message rules: argsz, transfer size, payload shape', async () => {
    const s = await open(src, 0);
    try {
      expect((await setState(s, ST.PRE_COPY)).errno).toBe(0);
      expect((await s.request(CMD.MIG_DATA_READ, u32s(8, 16))).errno).toBe(EINVAL); // argsz < 8 + size
      expect((await s.request(CMD.MIG_DATA_READ, u32s(8 + (2 << 20), 2 << 20))).errno).toBe(EINVAL); // above 1 MiB
      expect((await s.request(CMD.MIG_DATA_READ, Buffer.concat([u32s(24, 16), Buffer.alloc(4)]))).errno).toBe(EINVAL);
      const r = await migRead(s, 0);
      expect([r.errno, r.payload.readUInt32LE(0), r.payload.readUInt32LE(4)]).toEqual([0, 8, 0]);
      expect((await setState(s, ST.RUNNING)).errno).toBe(0);
      expect((await setState(s, ST.RESUMING)).errno).toBe(0);
      expect((await s.request(CMD.MIG_DATA_WRITE, Buffer.concat([u32s(12, 5), Buffer.alloc(4)]))).errno).toBe(EINVAL); // size != data
      expect((await s.request(CMD.MIG_DATA_WRITE, Buffer.concat([u32s(8, 4), Buffer.alloc(4)]))).errno).toBe(EINVAL); // argsz
      expect((await setState(s, ST.STOP)).errno).toBe(EBADMSG); // nothing valid arrived
    } finally {
      await s.close();
    }
  });
});

describe('migration through the v1 region', () => {
  const v1Write = (c: TestClient, off: number, b: Buffer) => c.request(CMD.REGION_WRITE, regionAccessPayload(MIG_REGION, BigInt(off), b.length, b));
  const v1Read = async (c: TestClient, off: number, n: number) => {
    const r = await c.request(CMD.REGION_READ, regionAccessPayload(MIG_REGION, BigInt(off), n));
    if (r.errno) throw new Error(`v1 read 0x${off.toString(16)}: errno ${r.errno}`);
    return r.payload.subarray(16);
  };

  it('saves with SAVING|RUNNING then SAVING, loads with RESUMING, refuses invalid device_state values', async () => {
    const s = await open(src, 0);
    const d = await open(dst, 0);
    try {
      await program(s, 0x61);
      expect((await v1Read(s, 0, 4)).readUInt32LE(0)).toBe(1); // RUNNING
      for (const bad of [5, 6, 7, 0x8]) expect((await v1Write(s, 0, le(bad, 4))).errno).toBe(EINVAL);
      expect((await v1Write(s, 0, le(3, 4))).errno).toBe(0); // SAVING | RUNNING = pre-copy
      expect(await getState(s)).toBe(ST.PRE_COPY); // the same device state as v2
      const stream: Buffer[] = [];
      const pull = async () => {
        for (;;) {
          const pending = (await v1Read(s, 8, 8)).readBigUInt64LE(0);
          if (pending === 0n) return;
          const off = Number((await v1Read(s, 0x10, 8)).readBigUInt64LE(0));
          const size = Number((await v1Read(s, 0x18, 8)).readBigUInt64LE(0));
          expect(off).toBe(0x1000);
          stream.push(Buffer.from(await v1Read(s, off, size)));
        }
      };
      await pull();
      expect((await v1Write(s, 0, le(2, 4))).errno).toBe(0); // SAVING: stop-and-copy
      await pull();
      expect((await v1Write(s, 0, le(0, 4))).errno).toBe(0); // STOP
      const all = Buffer.concat(stream);
      expect(all.length).toBeGreaterThan(100);

      expect((await v1Write(d, 0, le(4, 4))).errno).toBe(0); // RESUMING
      expect((await v1Write(d, 0x18, le(0x20000n, 8))).errno).toBe(EINVAL); // beyond the data area
      for (let at = 0; at < all.length; at += 0x800) {
        const chunk = all.subarray(at, at + 0x800);
        expect((await v1Write(d, 0x1000, chunk)).errno).toBe(0);
        expect((await v1Write(d, 0x18, le(BigInt(chunk.length), 8))).errno).toBe(0);
      }
      expect((await v1Write(d, 0, le(1, 4))).errno).toBe(0); // RUNNING: load, then run
      expect(await regRead(d, 0xf0c)).toBe(0x61);
      expect((await v1Read(d, 0, 4)).readUInt32LE(0)).toBe(1);
      // Field access rules.
      expect((await s.request(CMD.REGION_READ, regionAccessPayload(MIG_REGION, 8n, 4))).errno).toBe(EINVAL);
      expect((await v1Write(s, 8, le(1n, 8))).errno).toBe(EINVAL);
    } finally {
      await s.close();
      await d.close();
    }
  });
});
