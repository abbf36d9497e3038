// VF live migration through the PF driver between two emulated NICs: quiesce a VF that has
// filters, ring state and frames waiting in its RX FIFO, save its state, load it into a
// fresh VF of a second NIC, resume there and find every frame delivered in order; the
// destination PF treats the migrated VF as clear to send. Corrupted, truncated and
// incompatible blobs are refused (EBADMSG / EPROTO) and leave the destination VF as it was.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VfmedSystemError } from '../../mediator/errors.js';
import {
  frameTo, GUEST_LEN, macWords, makeRig, MSG_ACK, MSG_CTS, type Rig, RX_DESCS, RxGuest, VF_SET_LPE,
  VF_SET_MULTICAST, VF_SET_VLAN, VfMailbox, vfMac, waitFor,
} from './pf-rig.js';

const VF = 0;
const SRC_MAC = Uint8Array.of(0x02, 0x51, 0x52, 0x53, 0x54, 0x00);
const DST_MAC = Uint8Array.of(0x02, 0xd1, 0xd2, 0xd3, 0xd4, 0x00);

let src: Rig;
let dst: Rig;
let srcGuest: RxGuest;
let dstGuest: RxGuest;

function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** Re-seals a modified blob with a valid CRC (crc32 field at offset 24 of the header). */
function reseal(blob: Buffer): Buffer {
  const b = Buffer.from(blob);
  b.writeUInt32LE(0, 24);
  b.writeUInt32LE(crc32(b), 24);
  return b;
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof VfmedSystemError) return e.code;
    throw e;
  }
  return 'no error';
}

beforeEach(() => {
  src = makeRig({ maxVfs: 2, numVfs: 2, baseMac: SRC_MAC });
  dst = makeRig({ maxVfs: 2, numVfs: 2, baseMac: DST_MAC });
  srcGuest = new RxGuest(src.nic, VF);
  dstGuest = new RxGuest(dst.nic, VF);
});
afterEach(() => {
  src.close();
  dst.close();
  srcGuest.close();
  dstGuest.close();
});

/** Source VF: reset handshake, filters, RX ring with 2 frames received and 3 in the FIFO. */
function prepareSource(): { blob: Buffer; frames: Buffer[] } {
  const mbx = new VfMailbox(src.nic, VF, src.pf);
  mbx.resetHandshake();
  mbx.request([VF_SET_MULTICAST | (2 << 16), 0x0abc0123]);
  mbx.request([VF_SET_VLAN | (1 << 16), 77]);
  mbx.request([VF_SET_LPE, 1522]);
  srcGuest.start();
  const mac = vfMac(SRC_MAC, VF);
  const frames = Array.from({ length: 5 }, (_, i) => frameTo(mac, i, 100 + i));
  src.nic.uplinkInject(frames[0]!);
  src.nic.uplinkInject(frames[1]!);
  waitFor(() => (srcGuest.status(1) & 1) === 1, 'two frames received on the source');

  src.pf.quiesce(VF);
  for (const f of frames.slice(2)) src.nic.uplinkInject(f);
  waitFor(() => src.pf.vfStats(VF).fifoFrames === 3n, 'three frames held in the FIFO');
  expect(srcGuest.status(2) & 1).toBe(0); // quiesced: nothing DMA'd

  const size = src.pf.stateSize(VF);
  const blob = src.pf.save(VF);
  expect(blob.length).toBeGreaterThan(0);
  expect(blob.length).toBeLessThanOrEqual(size + 4096);
  expect(blob.readBigUInt64LE(0)).toBe(0x53465644454d4656n); // "VFMEDVFS"
  // Guest RAM migrates too (the ring and the buffers written so far).
  new Uint8Array(dstGuest.mem.buffer).set(new Uint8Array(srcGuest.mem.buffer, 0, GUEST_LEN));
  return { blob, frames };
}

describe('VF state save/load', () => {
  it('round-trips into a second NIC: filters, CTS, FIFO frames delivered after resume', () => {
    const { blob, frames } = prepareSource();
    expect(dst.pf.vfConfig(VF).mac).toEqual(vfMac(DST_MAC, VF));

    dst.pf.load(VF, blob);
    const cfg = dst.pf.vfConfig(VF);
    expect(cfg.mac).toEqual(vfMac(SRC_MAC, VF));
    expect([cfg.mcCount, cfg.vlanCount, cfg.maxFrame]).toEqual([2, 1, 1522]);
    expect(cfg.rxEnabled && cfg.txEnabled).toBe(true);
    expect(cfg.quiesced).toBe(true);
    const st = dst.pf.vfStatus(VF);
    expect(st.clearToSend).toBe(true);
    expect(st.permMac).toEqual(vfMac(SRC_MAC, VF));
    expect(st.filtersKnown).toBe(false); // counts known, IDs/hashes only in the device
    expect(dst.pf.vfStats(VF).fifoFrames).toBe(3n);

    dst.pf.resume(VF);
    waitFor(() => (dstGuest.status(4) & 1) === 1, 'FIFO frames delivered on the destination');
    for (let i = 0; i < 5; i++) expect(dstGuest.frame(i)).toEqual(frames[i]);
    expect(dstGuest.status(5) & 1).toBe(0); // nothing duplicated
    expect(dst.pf.vfStats(VF).rxPackets).toBeGreaterThanOrEqual(3n);

    // The guest driver never reset: it keeps talking to the new PF without VF_RESET.
    const mbx = new VfMailbox(dst.nic, VF, dst.pf);
    const [reply] = mbx.request([VF_SET_VLAN | (1 << 16), 78]);
    expect(reply).toBe((VF_SET_VLAN | (1 << 16) | MSG_ACK | MSG_CTS) >>> 0);
    expect(dst.pf.vfConfig(VF).vlanCount).toBe(2);
    // New traffic reaches the migrated MAC on the destination.
    dst.nic.uplinkInject(frameTo(vfMac(SRC_MAC, VF), 99));
    waitFor(() => (dstGuest.status(5) & 1) === 1, 'new frame on the destination');
    expect(RX_DESCS).toBeGreaterThan(5);
  });

  it('refuses to load into a VF that is running', () => {
    const { blob } = prepareSource();
    new VfMailbox(dst.nic, VF, dst.pf).resetHandshake();
    dstGuest.start();
    expect(codeOf(() => dst.pf.load(VF, blob))).toBe('EBUSY');
  });

  it('lets the source resume after an aborted migration', () => {
    const { frames } = prepareSource();
    src.pf.resume(VF);
    waitFor(() => (srcGuest.status(4) & 1) === 1, 'FIFO drained on the source');
    expect(srcGuest.frame(4)).toEqual(frames[4]);
  });
});

describe('bad blobs', () => {
  const mutations: [string, (b: Buffer) => Buffer, string][] = [
    ['a flipped payload byte (CRC mismatch)', (b) => { const c = Buffer.from(b); c[c.length >> 1] ^= 0x40; return c; }, 'EBADMSG'],
    ['a truncated blob', (b) => b.subarray(0, b.length - 8), 'EBADMSG'],
    ['only the header', (b) => b.subarray(0, 32), 'EBADMSG'],
    ['a wrong magic', (b) => { const c = Buffer.from(b); c.writeUInt32LE(0x12345678, 0); return reseal(c); }, 'EBADMSG'],
    ['total_len larger than the blob', (b) => { const c = Buffer.from(b); c.writeUInt32LE(b.length + 64, 12); return reseal(c); }, 'EBADMSG'],
    ['another major version', (b) => { const c = Buffer.from(b); c.writeUInt16LE(2, 8); return reseal(c); }, 'EPROTO'],
    ['another device model', (b) => { const c = Buffer.from(b); c.writeUInt32LE(0x11111111, 16); return reseal(c); }, 'EPROTO'],
    ['an unknown mandatory section', (b) => { const c = Buffer.from(b); c.writeUInt16LE(0x0042, 32); return reseal(c); }, 'EPROTO'],
  ];

  it.each(mutations)('refuses %s and leaves the VF untouched', (_what, mutate, code) => {
    const { blob } = prepareSource();
    const before = { cfg: dst.pf.vfConfig(VF), st: dst.pf.vfStatus(VF), info: dst.nic.vfInfo(VF) };
    expect(codeOf(() => dst.pf.load(VF, mutate(blob)))).toBe(code);
    expect(dst.pf.vfConfig(VF)).toEqual(before.cfg);
    const st = dst.pf.vfStatus(VF);
    expect(st.clearToSend).toBe(before.st.clearToSend);
    expect(st.permMac).toEqual(before.st.permMac);
    expect(dst.nic.vfInfo(VF).fifoFrames).toBe(0);
    expect(dst.pf.vfStats(VF).fifoFrames).toBe(0n);
    // The intact blob still loads afterwards.
    dst.pf.load(VF, blob);
    expect(dst.pf.vfConfig(VF).mac).toEqual(vfMac(SRC_MAC, VF));
    expect(macWords(dst.pf.vfStatus(VF).mac)).toEqual(macWords(vfMac(SRC_MAC, VF)));
  });
});
