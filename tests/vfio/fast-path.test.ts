// The native BAR0 fast path (native/transport/fast-path.cc, mediator/vfio/fast-path.ts):
// BAR0 register accesses served by the transport without the dispatcher must be
// indistinguishable on the wire from the dispatcher's answers (replies byte for byte,
// errors), keep the connection's order against messages the dispatcher handles (pipelined
// bursts that change the policy mid-stream), stop while a command is pending, and show up
// in the access counters.
import { constants } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { AccessCounter } from '../../mediator/daemon/access-counter.js';
import { DelegatingDevice, type MaybePromise } from '../../mediator/vfio/device.js';
import { messageChannel } from '../../mediator/vfio/dispatcher.js';
import { RECHECK_MS } from '../../mediator/vfio/fast-path.js';
import { IgbVfDevice } from '../../mediator/vfio/igbvf-device.js';
import { MediatedDevice, MediateRegistry, PASSTHROUGH, type RegionAccess } from '../../mediator/vfio/mediate-ops.js';
import { VfioUserServer } from '../../mediator/vfio/server.js';
import { TestClient, type Reply } from './helpers/client.js';
import { addon, enableMemory, startRig, until, type VfioRig } from './helpers/rig.js';
import { CMD, F_NO_REPLY, REGION, le, message, regionAccessPayload } from './helpers/wire.js';

const { EINVAL, EIO, ENODEV, EMSGSIZE } = constants.errno;

const PSRTYPE = 0x0f0c; // page 0, plain read/write register
const RDBAL0 = 0x2800; // page 2
const TDBAL0 = 0x3800; // page 3

let rig: VfioRig | null = null;
let extra: VfioUserServer | null = null;
let c: TestClient | null = null;

afterEach(async () => {
  await c?.close();
  c = null;
  await extra?.close();
  extra = null;
  await rig?.close();
  rig = null;
});

/** A server for VF `vf` of the rig whose device is wrapped as given. */
function serve<T extends import('../../mediator/vfio/device.js').VfioDevice>(r: VfioRig, name: string, dev: T): T {
  extra = new VfioUserServer({ path: `${r.dir}/${name}.sock`, device: dev }).listen();
  return dev;
}

function totals(server: VfioUserServer) {
  return server.attached?.fastPath.totals ?? null;
}

/** Messages of one burst: (bytes, expects a reply). */
type Burst = Array<{ bytes: Buffer; id: number; reply: boolean }>;

function access(id: number, write: boolean, region: number, off: number, size: number, value?: bigint, flags = 0): { bytes: Buffer; id: number; reply: boolean } {
  const data = write ? le(value ?? 0n, size as 1 | 2 | 4 | 8) : undefined;
  return { bytes: message(id, write ? CMD.REGION_WRITE : CMD.REGION_READ, regionAccessPayload(region, BigInt(off), size, data), flags), id, reply: !(flags & F_NO_REPLY) };
}

/** Sends every message of the burst at once (pipelined) and collects the replies. */
async function burst(cl: TestClient, msgs: Burst): Promise<Reply[]> {
  const waits = msgs.filter((m) => m.reply).map((m) => cl.raw(Buffer.alloc(0), m.id));
  cl.sendOnly(Buffer.concat(msgs.map((m) => m.bytes)));
  return Promise.all(waits);
}

/** A mixed sequence: good and bad BAR0 accesses the fast path serves or declines. */
function mixed(base: number): Burst {
  return [
    access(base + 1, true, REGION.BAR0, PSRTYPE, 4, 0x11n),
    access(base + 2, false, REGION.BAR0, PSRTYPE, 4),
    access(base + 3, true, REGION.BAR0, RDBAL0, 8, 0x1234_5678_9abc_d000n),
    access(base + 4, false, REGION.BAR0, RDBAL0, 8),
    access(base + 5, false, REGION.BAR0, PSRTYPE + 2, 2), // 2-byte: the dispatcher
    access(base + 6, false, REGION.BAR0, PSRTYPE + 2, 4), // unaligned: EINVAL
    access(base + 7, false, REGION.BAR0, 0x3ffc, 8), // past the end: EINVAL
    access(base + 8, true, REGION.BAR0, TDBAL0, 4, 0xfeed_f000n, F_NO_REPLY),
    access(base + 9, false, REGION.BAR0, TDBAL0, 4),
    access(base + 10, false, REGION.BAR0, 0, 4), // CTRL
    { bytes: message(base + 11, CMD.REGION_READ, regionAccessPayload(REGION.BAR0, BigInt(PSRTYPE), 0x200000)), id: base + 11, reply: true }, // EMSGSIZE
  ];
}

/** The reply bytes that matter (msg_id excluded: the two runs use different ids). */
function shape(r: Reply): string {
  return `${r.command} ${r.size} ${r.flags} ${r.error} ${r.payload.toString('hex')}`;
}

describe('native BAR0 fast path', () => {
  it('answers exactly what the dispatcher answers, byte for byte, errors included', async () => {
    rig = startRig(1);
    const server = rig.servers[0]!;
    c = await TestClient.connect(rig.path(0));
    await enableMemory(c);
    const fast = await burst(c, mixed(100));
    const served = totals(server)!;
    expect(served.reads + served.writes).toBeGreaterThanOrEqual(6);
    expect(served.errors).toBe(0);

    // The same with every message through the dispatcher (a diagnostics subscriber turns
    // the fast path off at the next dispatched message).
    const onMsg = (): void => {};
    messageChannel.subscribe(onMsg);
    try {
      await enableMemory(c); // dispatched: the policy is withdrawn after it
      expect(totals(server)).toBeNull();
      const slow = await burst(c, mixed(200));
      expect(slow.map(shape)).toEqual(fast.map(shape));
    } finally {
      messageChannel.unsubscribe(onMsg);
    }
    expect(fast.map((r) => r.errno)).toEqual([0, 0, 0, 0, 0, EINVAL, EINVAL, 0, 0, EMSGSIZE]);
    expect(fast[1]!.payload.readUInt32LE(16)).toBe(0x11);
    expect(fast[3]!.payload.readBigUInt64LE(16)).toBe(0x1234_5678_9abc_d000n);
    expect(fast[7]!.payload.readUInt32LE(16)).toBe(0xfeed_f000); // the posted write came first
    expect(c.stray).toEqual([]);
    expect(rig.errors).toEqual([]);
  });

  it('keeps the order of a pipelined burst that changes the policy mid-stream', async () => {
    rig = startRig(1);
    const server = rig.servers[0]!;
    c = await TestClient.connect(rig.path(0));
    await enableMemory(c);
    const cmd = (id: number, v: number) => ({ bytes: message(id, CMD.REGION_WRITE, regionAccessPayload(REGION.CONFIG, 4n, 2, le(v, 2))), id, reply: true });
    // Memory Space toggles inside one burst: each BAR0 access must see the state its
    // position in the stream gives it (served natively while enabled, EIO while not).
    const msgs: Burst = [];
    const expectErrno: number[] = [];
    let id = 1;
    for (let round = 0; round < 20; round++) {
      const on = round % 2 === 0;
      msgs.push(cmd(id++, on ? 0x0006 : 0x0004));
      expectErrno.push(0);
      for (let i = 0; i < 5; i++) {
        msgs.push(access(id++, true, REGION.BAR0, PSRTYPE, 4, BigInt(round * 16 + i)));
        expectErrno.push(on ? 0 : EIO);
        msgs.push(access(id++, false, REGION.BAR0, PSRTYPE, 4));
        expectErrno.push(on ? 0 : EIO);
      }
    }
    const replies = await burst(c, msgs);
    expect(replies.map((r) => r.errno)).toEqual(expectErrno);
    // Every read returns the write just before it (enabled rounds).
    for (let k = 0; k < replies.length; k++) {
      const m = msgs[k]!;
      if (m.bytes.readUInt16LE(2) === CMD.REGION_READ && replies[k]!.errno === 0) {
        expect(replies[k]!.payload.readUInt32LE(16)).toBe(msgs[k - 1]!.bytes.readUInt32LE(32));
      }
    }
    expect(totals(server)).toBeNull(); // the burst ended with Memory Space disabled
    await enableMemory(c);
    expect(totals(server)).not.toBeNull();
  });

  it('counts natively served accesses exactly (AccessCounter), also after the client left', async () => {
    rig = startRig(1);
    const dev = serve(rig, 'counted', new AccessCounter(new IgbVfDevice(rig.nic, 0)));
    c = await TestClient.connect(`${rig.dir}/counted.sock`);
    await enableMemory(c);
    const msgs: Burst = [];
    for (let i = 0; i < 50; i++) msgs.push(access(10 + i, i % 2 === 0, REGION.BAR0, i % 4 === 0 ? TDBAL0 : PSRTYPE, 4, 0x1000n));
    await burst(c, msgs);
    const fp = extra!.attached!.fastPath.totals!;
    expect(fp.reads + fp.writes).toBe(50);
    const counts = dev.counts;
    expect(counts.bar0.writes).toEqual([12, 0, 0, 13]);
    expect(counts.bar0.reads).toEqual([25, 0, 0, 0]);
    expect(counts.writesByOffset).toEqual({ '0x0f0c': 12, '0x3800': 13 });
    expect(counts.config.writes).toBe(1);
    // Served after the last sync, then the client goes: still counted.
    await burst(c, [access(100, true, REGION.BAR0, PSRTYPE, 4, 1n), access(101, false, REGION.BAR0, PSRTYPE, 4)]);
    await c.close();
    c = null;
    await until(() => extra!.attached === null, 'detach');
    expect(dev.counts.bar0.writes).toEqual([13, 0, 0, 13]);
    expect(dev.counts.bar0.reads).toEqual([26, 0, 0, 0]);
  });

  it('serves nothing while a command is pending, and resumes after it completes', async () => {
    rig = startRig(1);
    let release!: () => void;
    class SlowReset extends DelegatingDevice {
      override reset(): MaybePromise<void> {
        return new Promise<void>((r) => (release = r));
      }
    }
    serve(rig, 'slow', new SlowReset(new IgbVfDevice(rig.nic, 0)));
    c = await TestClient.connect(`${rig.dir}/slow.sock`);
    await enableMemory(c);
    const server = extra!;
    await burst(c, [access(1001, false, REGION.BAR0, PSRTYPE, 4)]);
    const before = totals(server)!;
    const pending = c.request(CMD.DEVICE_RESET);
    const during = await burst(c, [access(1002, true, REGION.BAR0, PSRTYPE, 4, 7n), access(1003, false, REGION.BAR0, PSRTYPE, 4)]);
    expect(during.map((r) => r.errno)).toEqual([0, 0]);
    expect(during[1]!.payload.readUInt32LE(16)).toBe(7);
    expect(server.attached!.fastPath.totals).toBeNull(); // withdrawn while pending
    release();
    expect((await pending).errno).toBe(0);
    await burst(c, [access(1004, false, REGION.BAR0, PSRTYPE, 4)]);
    const after = totals(server)!;
    expect(after.reads).toBe(1); // a fresh policy, serving again
    expect(before.reads).toBe(1);
  });

  it('a layer that overrides regionRead/regionWrite gets no fast path unless it says so', async () => {
    rig = startRig(1);
    class Trapping extends DelegatingDevice {
      writes = 0;
      override regionWrite(index: number, offset: bigint, data: Uint8Array): MaybePromise<void> {
        this.writes++;
        return super.regionWrite(index, offset, data);
      }
    }
    const dev = serve(rig, 'trapping', new Trapping(new IgbVfDevice(rig.nic, 0)));
    c = await TestClient.connect(`${rig.dir}/trapping.sock`);
    await enableMemory(c);
    await burst(c, [access(1, true, REGION.BAR0, PSRTYPE, 4, 5n), access(2, true, REGION.BAR0, RDBAL0, 4, 0x1000n)]);
    expect(dev.writes).toBe(3); // the config write and both BAR0 writes
    expect(extra!.attached!.fastPath.totals).toBeNull();
  });

  it('a mediate handle with an rw hook sees every access unless its fastPath hook gives some away', async () => {
    rig = startRig(1);
    const seen: RegionAccess[] = [];
    let giveAway = false;
    const registry = new MediateRegistry();
    registry.register({
      name: 'observer',
      open: () => ({
        driver: 'observer',
        rw: (a: RegionAccess) => { seen.push(a); return PASSTHROUGH; },
        release: () => {},
        ...(giveAway ? { fastPath: (base: import('../../mediator/vfio/fast-path.js').FastPathPolicy | null) => base } : {}),
      }),
    });
    serve(rig, 'mediated', new MediatedDevice(new IgbVfDevice(rig.nic, 0), registry));
    c = await TestClient.connect(`${rig.dir}/mediated.sock`);
    await enableMemory(c);
    await burst(c, [access(1001, true, REGION.BAR0, PSRTYPE, 4, 3n), access(1002, false, REGION.BAR0, PSRTYPE, 4)]);
    expect(seen.map((a) => [a.index, a.write])).toEqual([[REGION.CONFIG, true], [REGION.BAR0, true], [REGION.BAR0, false]]);
    expect(extra!.attached!.fastPath.totals).toBeNull();
    await c.close();
    await until(() => extra!.attached === null, 'detach');
    giveAway = true; // the next open's handle lets the device's policy stand
    seen.length = 0;
    c = await TestClient.connect(`${rig.dir}/mediated.sock`);
    await enableMemory(c);
    const r = await burst(c, [access(1003, true, REGION.BAR0, PSRTYPE, 4, 4n), access(1004, false, REGION.BAR0, PSRTYPE, 4)]);
    expect(r[1]!.payload.readUInt32LE(16)).toBe(4);
    expect(seen.map((a) => a.index)).toEqual([REGION.CONFIG]);
    expect(extra!.attached!.fastPath.totals).toMatchObject({ reads: 1, writes: 1 });
  });

  it("answers the device's own error (a VF without SR-IOV: ENODEV) as the dispatcher does", async () => {
    rig = startRig(2);
    rig.pf.sriovEnable(0);
    c = await TestClient.connect(rig.path(1));
    await enableMemory(c);
    const fast = await burst(c, [access(1, false, REGION.BAR0, PSRTYPE, 4), access(2, true, REGION.BAR0, PSRTYPE, 4, 1n)]);
    expect(fast.map((r) => r.errno)).toEqual([ENODEV, ENODEV]);
    expect(totals(rig.servers[1]!)!.errors).toBe(2);
    const onMsg = (): void => {};
    messageChannel.subscribe(onMsg);
    try {
      await enableMemory(c);
      const slow = await burst(c, [access(3, false, REGION.BAR0, PSRTYPE, 4), access(4, true, REGION.BAR0, PSRTYPE, 4, 1n)]);
      expect(slow.map(shape)).toEqual(fast.map(shape));
    } finally {
      messageChannel.unsubscribe(onMsg);
    }
  });

  it('notices a diagnostics subscriber without any dispatched message', async () => {
    rig = startRig(1);
    c = await TestClient.connect(rig.path(0));
    await enableMemory(c);
    await burst(c, [access(1, false, REGION.BAR0, PSRTYPE, 4)]);
    expect(totals(rig.servers[0]!)).not.toBeNull();
    const seen: unknown[] = [];
    const onMsg = (m: unknown): void => void seen.push(m);
    messageChannel.subscribe(onMsg);
    try {
      await new Promise((r) => setTimeout(r, RECHECK_MS * 2 + 50));
      await burst(c, [access(2, false, REGION.BAR0, PSRTYPE, 4)]);
      expect(seen).toHaveLength(1);
    } finally {
      messageChannel.unsubscribe(onMsg);
    }
  });

  it('rejects malformed policies with a clear error and keeps serving through the dispatcher', () => {
    rig = startRig(1);
    const raw = (addon as unknown as { transport: { connect(p: string): { setFastPath(p: unknown): void; destroy(): void } } }).transport.connect(rig.path(0));
    try {
      const nic = rig.nic;
      const ok = { nic, vf: 0, region: 0, regionSize: 0x4000, read: new Uint8Array(512), write: new Uint8Array(512) };
      expect(() => raw.setFastPath({ ...ok, nic: {} })).toThrow(/must be a Nic/);
      expect(() => raw.setFastPath({ ...ok, vf: 9 })).toThrow(/vf/);
      expect(() => raw.setFastPath({ ...ok, regionSize: 100 })).toThrow(/regionSize/);
      expect(() => raw.setFastPath({ ...ok, read: new Uint8Array(3) })).toThrow(/512 bytes/);
      expect(() => raw.setFastPath({ ...ok, tailLog: { windows: [{ iova: 0n, buffer: new ArrayBuffer(0) }] } })).toThrow(/empty/);
      expect(() => raw.setFastPath(ok)).not.toThrow();
      expect(() => raw.setFastPath(null)).not.toThrow();
    } finally {
      raw.destroy();
    }
  });
});
