// VF bring-up as igbvf does it (igbvf-vf.md 3.3-3.5): CTRL.RST, the VF_RESET mailbox
// handshake answered by the PF driver (libvfpf), the configuration messages, and the
// failure modes of the mailbox (bounded timeout, NACK before reset).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HwRig, vfMac } from '../helpers/rig.js';
import { mac } from '../../mediator/demo/frames.js';
import * as R from '../../mediator/demo/vf-regs.js';
import { VfmedError } from '../../mediator/errors.js';

describe('VF reset handshake', () => {
  let rig: HwRig;
  beforeEach(() => {
    rig = new HwRig({ maxVfs: 4, numVfs: 2 });
  });
  afterEach(() => rig.close());

  it('replies 0x80000001 with the MAC the PF assigned, and enables RX/TX', () => {
    for (const vf of [0, 1]) {
      const g = rig.guest(vf);
      const m = g.pmd.reset();
      expect(Buffer.from(m)).toEqual(Buffer.from(vfMac(vf)));
      expect(Buffer.from(rig.pfApi.vfGetConfig(vf).mac)).toEqual(Buffer.from(vfMac(vf)));
      const info = rig.info(vf);
      expect(info.rxEn).toBe(true);
      expect(info.txEn).toBe(true);
      expect(g.pmd.mbx.counters.timeouts).toBe(0);
    }
  });

  it('CTRL.RST alone disables the VF until the handshake, and reads back 0', () => {
    const g = rig.guest(0);
    g.pmd.reset();
    const misc = g.pmd.miscPort;
    misc.write32(R.CTRL, R.CTRL_RST);
    expect(misc.read32(R.CTRL) & R.CTRL_RST).toBe(0);
    const info = rig.info(0);
    expect(info.rxEn).toBe(false);
    expect(info.txEn).toBe(false);
    g.pmd.reset();
    expect(rig.info(0).rxEn).toBe(true);
  });

  it('after VF_RESET the PF driver and the device agree on the VF max frame', () => {
    const g = rig.guest(0);
    g.pmd.reset();
    // The driver's soft state (what it reports) and the device's filter (what it enforces)
    // must be the same number: otherwise oversize frames pass a VF that never sent SET_LPE
    // while the PF reports a 1522-byte limit.
    expect(rig.pfApi.driver.vfStatus(0).maxFrame).toBe(rig.pfApi.vfGetConfig(0).maxFrame);
    expect(g.pmd.setLpe(2000)).toBe(true);
    expect(rig.pfApi.driver.vfStatus(0).maxFrame).toBe(2000);
    expect(rig.pfApi.vfGetConfig(0).maxFrame).toBe(2000);
  });

  it('a request before VF_RESET is NACKed', () => {
    const g = rig.guest(1);
    // Fresh VF: no VF_RESET yet. The PF driver must refuse SET_MAC_ADDR.
    const reply = g.pmd.mbx.transact([R.VF_SET_MAC_ADDR, 0x33221102, 0x5544], 1);
    expect(reply[0]! & 0xffff).toBe(R.VF_SET_MAC_ADDR);
    expect(reply[0]! & R.MSG_NACK).toBe(R.MSG_NACK >>> 0);
    expect(reply[0]! & R.MSG_ACK).toBe(0);
  });

  it('SET_MAC / SET_MULTICAST / SET_VLAN / SET_LPE are ACKed with CTS and reach the device', () => {
    const g = rig.guest(0);
    const newMac = mac('02:aa:bb:cc:dd:01');
    g.pmd.init({
      mac: newMac,
      multicast: [mac('01:00:5e:00:00:01'), mac('01:00:5e:00:00:fb')],
      vlans: [100, 200],
      maxFrame: 9018,
    });
    expect(Buffer.from(g.pmd.mac!)).toEqual(Buffer.from(newMac));
    const cfg = rig.pfApi.vfGetConfig(0);
    expect(Buffer.from(cfg.mac)).toEqual(Buffer.from(newMac));
    expect(Buffer.from(rig.info(0).mac)).toEqual(Buffer.from(newMac));
    expect(cfg.mcCount).toBe(2);
    expect(cfg.vlanCount).toBe(2);
    expect(cfg.maxFrame).toBe(9018);
    // igbvf's link check: STATUS.LU and CTS in the PF's last message (3.5).
    expect(g.pmd.linkUp()).toBe(true);
    expect(g.pmd.setVlan(100, false)).toBe(true);
    expect(rig.pfApi.vfGetConfig(0).vlanCount).toBe(1);
  });

  it('an administratively fixed MAC makes SET_MAC_ADDR NACK and survives the reset', () => {
    const fixed = mac('02:12:34:56:78:9a');
    rig.pfApi.vfSetMac(1, fixed);
    const g = rig.guest(1);
    expect(Buffer.from(g.pmd.reset())).toEqual(Buffer.from(fixed));
    expect(g.pmd.setMac(mac('02:00:00:00:00:77'))).toBe(false);
    expect(Buffer.from(rig.info(1).mac)).toEqual(Buffer.from(fixed));
  });

  it('a mailbox wait without the PF is bounded, and the mailbox stays refused until reset', () => {
    const g = rig.guest(0, { pmd: { service: () => {}, mbxBudget: { tries: 20, delayUs: 100 } } });
    // Reset handshake needs the PF: without service() nobody answers VF_RESET.
    let err: unknown;
    try {
      g.pmd.reset();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VfmedError);
    expect((err as VfmedError).code).toBe('VFMED_ERR_MBX_TIMEOUT');
    expect((err as VfmedError).message).toMatch(/PFACK|PFSTS/);
    expect(g.pmd.mbx.isTimedOut).toBe(true);
    expect(() => g.pmd.setMac(mac('02:00:00:00:00:99'))).toThrow(/earlier mailbox operation timed out/);
    // A second PMD on the same VF with the PF serviced recovers by resetting.
    const g2 = rig.guest(0, { noDmaMap: true });
    expect(Buffer.from(g2.pmd.reset())).toEqual(Buffer.from(vfMac(0)));
  });

  it('a read-to-clear PFSTS seen while waiting for PFACK is kept for the posted read', () => {
    const g = rig.guest(0);
    g.pmd.reset();
    // The PF sets PFACK and PFSTS together (3.3); transact() waits for PFACK first. If the
    // software copy were lost, the PFSTS wait would time out.
    for (let i = 0; i < 20; i++) expect(g.pmd.setVlan(10 + i, true)).toBe(true);
    expect(g.pmd.mbx.counters.timeouts).toBe(0);
    expect(rig.pfApi.vfGetConfig(0).vlanCount).toBe(20);
  });
});
