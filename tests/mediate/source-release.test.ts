// The source VF after a completed outgoing migration (docs/live-migration.md, "What a
// migration does", step 4): when the client that took the VF through STOP_COPY (state read
// to its end) to STOP disconnects, the VF gives the guest's MAC up through the PF driver, so
// frames another local VF sends to that MAC — stalled while the VF was sealed after VF_SAVE
// — now leave by the uplink toward the guest's new host, none dropped. Every other release
// (a migration that failed back to RUNNING, a client gone in STOP_COPY, a stream not read to
// its end) keeps the MAC.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GuestMemory } from '../../mediator/demo/guest-memory.js';
import { IgbvfPmd } from '../../mediator/demo/igbvf-pmd.js';
import { VfBarMapping, trappedPort } from '../../mediator/demo/vf-reg-port.js';
import { buildFrame, checkFrame } from '../../mediator/demo/frames.js';
import { TestClient } from '../vfio/helpers/client.js';
import { enableMemory, until } from '../vfio/helpers/rig.js';
import { addon, DaemonRig } from './helpers/daemon-rig.js';
import { ST, drain, migRead, setState } from './helpers/mediate-wire.js';

const BASE = Uint8Array.of(0x02, 0x76, 0x66, 0x4d, 0x00, 0x10);
const macOf = (vf: number) => Uint8Array.from([...BASE.subarray(0, 5), BASE[5]! + vf]);
const ZERO_MAC = new Uint8Array(6);

interface Local {
  pmd: IgbvfPmd;
  /** DMA-maps the guest RAM again (a vfio-user client's release unmaps every window). */
  remap(): void;
  close(): void;
}

/** A guest driver in this process on VF `vf` (a local VM using its VF by passthrough). */
function localGuest(rig: DaemonRig, vf: number): Local {
  const dmaLen = 1 << 20;
  const iovaBase = 0x4_0000_0000n + BigInt(vf) * 0x1000_0000n;
  const mem = new GuestMemory(addon, { size: dmaLen, dmaLen, iovaBase, name: `release-vf${vf}` });
  rig.nic.vfDmaMap(vf, iovaBase, BigInt(dmaLen), mem.fd, 0n, 3);
  const bar = new VfBarMapping(addon, rig.nic.vfBarFd(vf));
  const pmd = new IgbvfPmd({ service: () => rig.pf.service(), misc: trappedPort(rig.nic, vf), queues: bar.port(), mem, txRingSize: 64, rxRingSize: 64 });
  pmd.init();
  return {
    pmd,
    remap: () => rig.nic.vfDmaMap(vf, iovaBase, BigInt(dmaLen), mem.fd, 0n, 3),
    close() {
      bar.unmap();
      mem.close();
    },
  };
}

/** Frames the uplink sent out since the last call. */
function uplinkFrames(rig: DaemonRig): Buffer[] {
  const out: Buffer[] = [];
  for (let f = rig.nic.uplinkTake(); f; f = rig.nic.uplinkTake()) out.push(f);
  return out;
}

/** Observes the device for a while (bounded) and returns what reached the uplink. */
async function quietFor(rig: DaemonRig, ms: number): Promise<Buffer[]> {
  await new Promise((r) => setTimeout(r, ms));
  return uplinkFrames(rig);
}

describe('source VF release after a migration', () => {
  let rig: DaemonRig;
  let moving: Local; // VF 0: the guest that migrates away
  let sender: Local; // VF 1: another local guest sending to it
  beforeEach(() => {
    rig = new DaemonRig('release', { vfs: 2, baseMac: BASE });
    moving = localGuest(rig, 0);
    sender = localGuest(rig, 1);
  });
  afterEach(async () => {
    await rig.close();
    moving.close();
    sender.close();
  });

  const framesTo0 = (stream: number, n: number) =>
    Array.from({ length: n }, (_, seq) => buildFrame({ dst: macOf(0), src: macOf(1), stream, seq, len: 60 + seq * 37 }));

  async function openVf0(): Promise<TestClient> {
    const c = await TestClient.connect(rig.path(0));
    await enableMemory(c);
    return c;
  }

  /** Takes the open VF 0 through PRE_COPY and STOP_COPY; returns with the VF sealed. */
  async function toStopCopy(c: TestClient, readAll: boolean): Promise<void> {
    expect((await setState(c, ST.PRE_COPY)).errno).toBe(0);
    await drain(c);
    expect((await setState(c, ST.STOP_COPY)).errno).toBe(0);
    if (readAll) await drain(c, 1024);
    else expect((await migRead(c, 16)).data.length).toBe(16);
  }

  it('completed: stalled frames to the moved MAC leave by the uplink once the client is gone, none lost', async () => {
    // Before: the MAC is a local pool; VF 1 -> VF 0 stays inside the NIC.
    const before = framesTo0(1, 3);
    expect(sender.pmd.tx(before)).toBe(3);
    const got: Buffer[] = [];
    await until(() => {
      got.push(...moving.pmd.rx().map((f) => Buffer.from(f.data)));
      return got.length >= 3;
    }, 'VF 0 receives');
    expect(got.map((f) => checkFrame(f).stream)).toEqual([1, 1, 1]);
    expect(uplinkFrames(rig)).toEqual([]);

    const c = await openVf0();
    await toStopCopy(c, true);
    expect((await setState(c, ST.STOP)).errno).toBe(0);
    expect(rig.handle(0).status()).toMatchObject({ migration: 'STOP', migratedOut: true });

    // Sealed after VF_SAVE: a local sender to the MAC stalls (its frames are neither
    // delivered, nor sent out, nor dropped).
    const n = 12;
    const frames = framesTo0(2, n);
    const txBefore = rig.nic.vfInfo(1).txPackets;
    expect(sender.pmd.tx(frames)).toBe(n);
    expect(await quietFor(rig, 100)).toEqual([]);
    expect(sender.pmd.txOutstanding()).toBe(n);
    expect(rig.nic.vfInfo(1).txPackets).toBe(txBefore);
    expect(rig.pf.vfStatus(0).mac).toEqual(macOf(0));

    // The client that migrated the VF out leaves: the VF gives the MAC up, the stalled
    // frames go out by the uplink, in order, byte for byte.
    await c.close();
    await until(() => rig.servers[0]!.attached === null, 'VF 0 released');
    const out: Buffer[] = [];
    await until(() => {
      out.push(...uplinkFrames(rig));
      return out.length >= n;
    }, 'the stalled frames on the uplink');
    expect(out.length).toBe(n);
    out.forEach((f, i) => expect(f.equals(frames[i]!)).toBe(true));
    expect(out.map((f) => checkFrame(f).seq)).toEqual([...Array(n).keys()]);
    await until(() => sender.pmd.txOutstanding() === 0, 'VF 1 TX complete');
    // Nothing dropped anywhere, nothing delivered to the released VF.
    const v0 = rig.nic.vfInfo(0);
    expect([v0.fifoDrops, v0.fifoFrames, rig.nic.vfInfo(1).txErrors]).toEqual([0n, 0, 0n]);
    expect(rig.pf.vfStats(0).rxFifoDrops).toBe(0n);
    // The PF driver forgot the MAC: filter empty, no admin fix, no permanent address, so a
    // later reset of the VF cannot claim it again.
    const st = rig.pf.vfStatus(0);
    expect([st.mac, st.permMac, st.macAdmin, st.mcCount, st.vlanCount]).toEqual([ZERO_MAC, ZERO_MAC, false, 0, 0]);
    expect(rig.pf.vfConfig(0).mac).toEqual(ZERO_MAC);
    // Later frames to that MAC go straight out as well.
    const later = framesTo0(3, 2);
    sender.pmd.tx(later);
    const out2: Buffer[] = [];
    await until(() => {
      out2.push(...uplinkFrames(rig));
      return out2.length >= 2;
    }, 'later frames on the uplink');
    expect(out2.map((f) => checkFrame(f).stream)).toEqual([3, 3]);
  });

  it('failed back to RUNNING: the release keeps the MAC and VF 1 -> VF 0 stays local', async () => {
    const c = await openVf0();
    await toStopCopy(c, true);
    // The destination refused: STOP_COPY -> STOP -> RUNNING (contract step 5).
    expect((await setState(c, ST.RUNNING)).errno).toBe(0);
    await c.close();
    await until(() => rig.servers[0]!.attached === null, 'VF 0 released');
    expect(rig.pf.vfStatus(0).mac).toEqual(macOf(0));
    moving.remap(); // the local driver on VF 0 shares it with the vfio-user client of this test
    const frames = framesTo0(4, 4);
    sender.pmd.tx(frames);
    const got: Buffer[] = [];
    await until(() => {
      got.push(...moving.pmd.rx().map((f) => Buffer.from(f.data)));
      return got.length >= 4;
    }, 'VF 0 receives VF 1 frames');
    expect(got.map((f) => checkFrame(f).seq)).toEqual([0, 1, 2, 3]);
    expect(uplinkFrames(rig)).toEqual([]);
  });

  it('a client gone in STOP_COPY, or in STOP without having read the whole state, gets the reset and keeps the MAC', async () => {
    for (const finish of [false, true]) {
      await until(() => rig.servers[0]!.attached === null, 'VF 0 free');
      const c = await openVf0();
      await toStopCopy(c, false);
      if (finish) {
        expect((await setState(c, ST.STOP)).errno).toBe(0);
        expect(rig.handle(0).status()).toMatchObject({ migration: 'STOP', migratedOut: false });
      }
      await c.close();
      await until(() => rig.servers[0]!.attached === null, 'VF 0 released');
      const st = rig.pf.vfStatus(0);
      expect([st.mac, st.permMac]).toEqual([macOf(0), macOf(0)]);
      expect(rig.nic.vfInfo(0).rxEn).toBe(false); // reset: the VF driver must reset it again
      moving.pmd.init();
    }
  });
});
