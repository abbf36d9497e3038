// The igb PF mailbox policy of pf-driver/core/vfpf_policy.c, exercised from the VF side
// like igbvf does it (lock, VMBMEM, REQ / PFSTS, ACK) through the device's register path,
// with the PF driver serving through libvfpf.so. Each case checks the reply word, the
// device's view of the VF (VF_GET_CONFIG / vfInfo) and the driver's soft state.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BASE_MAC, macWords, makeRig, MBX_PFACK, MBX_PFSTS, MSG_ACK, MSG_CTS, MSG_NACK, type Rig, VF_RESET,
  VF_SET_LPE, VF_SET_MAC_ADDR, VF_SET_MULTICAST, VF_SET_PROMISC, VF_SET_VLAN, VfMailbox, vfMac, VMBMEM,
  waitFor,
} from './pf-rig.js';

let rig: Rig;
let mbx: VfMailbox;
const VF = 1;

beforeEach(() => {
  rig = makeRig({ maxVfs: 2, numVfs: 2 });
  mbx = new VfMailbox(rig.nic, VF, rig.pf);
});
afterEach(() => rig.close());

const NEW_MAC = Uint8Array.of(0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x01);
const ADMIN_MAC = Uint8Array.of(0x02, 0x11, 0x22, 0x33, 0x44, 0x55);

/** Multicast message word 0 + packed 12-bit hashes, 2 per word (igbvf e1000_update_mc_addr_list_vf). */
function mcMessage(hashes: number[]): number[] {
  const words = new Array<number>(16).fill(0);
  words[0] = VF_SET_MULTICAST | (hashes.length << 16);
  hashes.forEach((h, i) => {
    words[1 + (i >> 1)] = (words[1 + (i >> 1)]! | (h << ((i & 1) * 16))) >>> 0;
  });
  return words;
}

describe('VF reset handshake', () => {
  it('answers VF_RESET with ACK and the MAC, no CTS, and enables RX/TX', () => {
    expect(rig.nic.vfInfo(VF).rxEn).toBe(false);
    const reply = mbx.resetHandshake();
    const [lo, hi] = macWords(vfMac(BASE_MAC, VF));
    expect(reply).toEqual([(MSG_ACK | VF_RESET) >>> 0, lo, hi]);
    const info = rig.nic.vfInfo(VF);
    expect(info.rxEn && info.txEn).toBe(true);
    expect(Uint8Array.from(info.mac)).toEqual(vfMac(BASE_MAC, VF));
    expect(rig.pf.vfStatus(VF).clearToSend).toBe(true);
    // The other VF was not touched.
    expect(rig.nic.vfInfo(0).rxEn).toBe(false);
    expect(rig.pf.vfStatus(0).clearToSend).toBe(false);
  });

  it('hands out the administrator MAC at the next reset', () => {
    rig.pf.setVfMac(VF, ADMIN_MAC);
    expect(Uint8Array.from(rig.nic.vfInfo(VF).mac)).toEqual(ADMIN_MAC);
    const reply = mbx.resetHandshake();
    expect(reply.slice(1)).toEqual(macWords(ADMIN_MAC));
    expect(rig.pf.vfStatus(VF).macAdmin).toBe(true);
  });
});

describe('messages before VF_RESET completed', () => {
  it.each([
    ['SET_MAC_ADDR', [VF_SET_MAC_ADDR, ...macWords(NEW_MAC)]],
    ['SET_MULTICAST', mcMessage([0x123])],
    ['SET_VLAN', [VF_SET_VLAN | (1 << 16), 100]],
    ['SET_LPE', [VF_SET_LPE, 1522]],
    ['SET_PROMISC', [VF_SET_PROMISC | (2 << 16)]],
  ])('NACKs %s without CTS and applies nothing', (_name, words) => {
    const [reply] = mbx.request(words);
    expect(reply).toBe((words[0]! | MSG_NACK) >>> 0);
    const cfg = rig.pf.vfConfig(VF);
    expect(cfg.mac).toEqual(vfMac(BASE_MAC, VF));
    expect([cfg.mcCount, cfg.vlanCount, cfg.promisc]).toEqual([0, 0, 0]);
    expect(rig.pf.vfStatus(VF).nacks).toBe(1n);
  });
});

describe('messages from a VF that is clear to send', () => {
  beforeEach(() => {
    mbx.resetHandshake();
  });

  const cases: [string, () => number[], boolean, () => void][] = [
    ['SET_MAC_ADDR to a new unicast MAC', () => [VF_SET_MAC_ADDR, ...macWords(NEW_MAC)], true,
      () => expect(rig.pf.vfConfig(VF).mac).toEqual(NEW_MAC)],
    ['SET_MAC_ADDR to a multicast MAC', () => [VF_SET_MAC_ADDR, ...macWords(Uint8Array.of(1, 0, 0x5e, 0, 0, 1))], false,
      () => expect(rig.pf.vfConfig(VF).mac).toEqual(vfMac(BASE_MAC, VF))],
    ['SET_MAC_ADDR with a unicast filter MSGINFO', () => [VF_SET_MAC_ADDR | (2 << 16), ...macWords(NEW_MAC)], false,
      () => expect(rig.pf.vfConfig(VF).mac).toEqual(vfMac(BASE_MAC, VF))],
    ['SET_MULTICAST with 3 hashes', () => mcMessage([0x123, 0xabc, 0x001]), true, () => {
      expect(rig.pf.vfConfig(VF).mcCount).toBe(3);
      expect(rig.pf.vfStatus(VF).mcHashes).toEqual([0x123, 0xabc, 0x001]);
    }],
    ['SET_MULTICAST with 30 hashes', () => mcMessage(Array.from({ length: 30 }, (_, i) => i * 100)), true,
      () => expect(rig.pf.vfConfig(VF).mcCount).toBe(30)],
    ['SET_MULTICAST with 31 hashes', () => [VF_SET_MULTICAST | (31 << 16), ...new Array<number>(15).fill(0)], false,
      () => expect(rig.pf.vfConfig(VF).mcCount).toBe(0)],
    ['SET_VLAN add 100', () => [VF_SET_VLAN | (1 << 16), 100], true, () => {
      expect(rig.pf.vfConfig(VF).vlanCount).toBe(1);
      expect(rig.pf.vfVlans(VF)).toEqual([100]);
    }],
    ['SET_VLAN with VID 4096', () => [VF_SET_VLAN | (1 << 16), 4096], false,
      () => expect(rig.pf.vfConfig(VF).vlanCount).toBe(0)],
    ['SET_LPE 9018', () => [VF_SET_LPE, 9018], true, () => expect(rig.pf.vfConfig(VF).maxFrame).toBe(9018)],
    ['SET_LPE 20000', () => [VF_SET_LPE, 20000], false, () => expect(rig.pf.vfConfig(VF).maxFrame).not.toBe(20000)],
    ['SET_PROMISC multicast', () => [VF_SET_PROMISC | (2 << 16)], true, () => expect(rig.pf.vfConfig(VF).promisc).toBe(2)],
    ['SET_PROMISC unicast', () => [VF_SET_PROMISC | (1 << 16)], false, () => expect(rig.pf.vfConfig(VF).promisc).toBe(0)],
    ['an unknown message id', () => [0x77], false, () => undefined],
  ];

  it.each(cases)('%s', (_name, words, ack, check) => {
    const msg = words();
    const [reply] = mbx.request(msg);
    expect(reply).toBe((msg[0]! | (ack ? MSG_ACK : MSG_NACK) | MSG_CTS) >>> 0);
    check();
    const st = rig.pf.vfStatus(VF);
    expect(st.nacks).toBe(ack ? 0n : 1n);
    expect(st.errors).toBe(0n);
  });

  it('keeps the rest of VMBMEM as the VF wrote it', () => {
    const reply = mbx.request([VF_SET_VLAN | (1 << 16), 42, 0xdeadbeef], 3);
    expect(reply).toEqual([(VF_SET_VLAN | (1 << 16) | MSG_ACK | MSG_CTS) >>> 0, 42, 0xdeadbeef]);
  });

  it('removes a VLAN again', () => {
    mbx.request([VF_SET_VLAN | (1 << 16), 7]);
    mbx.request([VF_SET_VLAN | (1 << 16), 9]);
    const [reply] = mbx.request([VF_SET_VLAN, 7]);
    expect(reply).toBe((VF_SET_VLAN | MSG_ACK | MSG_CTS) >>> 0);
    expect(rig.pf.vfVlans(VF)).toEqual([9]);
    expect(rig.pf.vfConfig(VF).vlanCount).toBe(1);
  });

  it('NACKs SET_MAC_ADDR when the administrator fixed another MAC, ACKs the same MAC', () => {
    rig.pf.setVfMac(VF, ADMIN_MAC);
    const [nack] = mbx.request([VF_SET_MAC_ADDR, ...macWords(NEW_MAC)]);
    expect(nack).toBe((VF_SET_MAC_ADDR | MSG_NACK | MSG_CTS) >>> 0);
    expect(rig.pf.vfConfig(VF).mac).toEqual(ADMIN_MAC);
    const [ack] = mbx.request([VF_SET_MAC_ADDR, ...macWords(ADMIN_MAC)]);
    expect(ack).toBe((VF_SET_MAC_ADDR | MSG_ACK | MSG_CTS) >>> 0);
    // An all-zero MAC lifts the administrative fix.
    rig.pf.setVfMac(VF, new Uint8Array(6));
    const [ack2] = mbx.request([VF_SET_MAC_ADDR, ...macWords(NEW_MAC)]);
    expect(ack2).toBe((VF_SET_MAC_ADDR | MSG_ACK | MSG_CTS) >>> 0);
  });

  it('ignores stale ACK/NACK echoes: PFACK only, no reply, VMBMEM untouched', () => {
    for (const bit of [MSG_ACK, MSG_NACK]) {
      const word = (VF_SET_VLAN | bit) >>> 0;
      mbx.post([word, 55]);
      // The PF consumed it (PFACK) but wrote nothing back: no PFSTS arrives.
      for (let i = 0; i < 5; i++) rig.pf.service();
      expect(mbx.take(MBX_PFSTS)).toBe(false);
      expect(rig.nic.vfRead32(VF, VMBMEM(0)) >>> 0).toBe(word);
    }
    const st = rig.pf.vfStatus(VF);
    expect(st.stale).toBe(2n);
    expect(rig.pf.vfConfig(VF).vlanCount).toBe(0);
  });

  it('counts the VF ACKs of PF messages', () => {
    rig.pf.service(); // the ACK of the VF_RESET reply
    const before = rig.pf.vfStatus(VF).vfAcks;
    expect(before).toBe(1n);
    mbx.request([VF_SET_LPE, 1522]);
    rig.pf.service();
    expect(rig.pf.vfStatus(VF).vfAcks).toBe(before + 1n);
  });

  it('on a VF reset clears CTS and the filters, disables RX/TX, and NACKs until VF_RESET', () => {
    mbx.request([VF_SET_MAC_ADDR, ...macWords(NEW_MAC)]);
    mbx.request(mcMessage([1, 2]));
    mbx.request([VF_SET_VLAN | (1 << 16), 300]);
    mbx.request([VF_SET_PROMISC | (2 << 16)]);
    const resets = rig.pf.vfStatus(VF).resets;
    mbx.ctrlReset();
    waitFor(() => rig.pf.vfStatus(VF).resets === resets + 1n, 'reset event served', () => rig.pf.service());
    const st = rig.pf.vfStatus(VF);
    expect(st.clearToSend).toBe(false);
    const cfg = rig.pf.vfConfig(VF);
    expect([cfg.mcCount, cfg.vlanCount, cfg.promisc]).toEqual([0, 0, 0]);
    expect(cfg.mac).toEqual(vfMac(BASE_MAC, VF)); // back to the permanent MAC
    expect(cfg.rxEnabled || cfg.txEnabled).toBe(false);
    const [nack] = mbx.request([VF_SET_LPE, 1522]);
    expect(nack).toBe((VF_SET_LPE | MSG_NACK) >>> 0);
    expect(mbx.request([VF_RESET], 3)[0]).toBe((VF_RESET | MSG_ACK) >>> 0);
    expect(rig.pf.vfStatus(VF).clearToSend).toBe(true);
  });

  it('keeps serving the other VFs independently', () => {
    const other = new VfMailbox(rig.nic, 0, rig.pf);
    expect(other.resetHandshake()[0]).toBe((VF_RESET | MSG_ACK) >>> 0);
    mbx.request([VF_SET_VLAN | (1 << 16), 10]);
    other.request([VF_SET_VLAN | (1 << 16), 20]);
    expect(rig.pf.vfVlans(VF)).toEqual([10]);
    expect(rig.pf.vfVlans(0)).toEqual([20]);
  });
});

describe('mailbox bookkeeping', () => {
  it('sets PFACK and PFSTS together for a reply', () => {
    mbx.post([VF_RESET]);
    // post() consumed PFACK; PFSTS came with it.
    expect(mbx.take(MBX_PFSTS)).toBe(true);
    expect(mbx.take(MBX_PFACK)).toBe(false);
  });
});
