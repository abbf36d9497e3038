// The PMD's mailbox protocol against a scripted V2PMAILBOX (no device): the exact register
// sequence of igbvf-vf.md 3.3 (lock, flush, VMBMEM, REQ / wait PFSTS, lock, read, ACK), the
// software copy of read-to-clear bits when PFACK and PFSTS arrive in one read, the bounded
// wait with service() between tries, and the "timed out until reset" state.
import { describe, expect, it } from 'vitest';
import { IgbvfMailbox } from '../../mediator/demo/igbvf-mailbox.js';
import type { RegPort } from '../../mediator/demo/vf-reg-port.js';
import { VfBarMapping } from '../../mediator/demo/vf-reg-port.js';
import { fakeOs } from '../helpers/fake-device.js';
import * as R from '../../mediator/demo/vf-regs.js';

/** V2PMAILBOX with the real bit semantics; the "PF" answers `reply` after `delay` reads. */
function scriptedMailbox(reply: number[], delay = 0) {
  const log: string[] = [];
  const mem = new Array<number>(16).fill(0);
  let bits = 0; // VFU | PFSTS | PFACK
  let pendingReads = -1;
  const port: RegPort = {
    kind: 'trapped',
    read32(off) {
      if (off === R.V2PMAILBOX) {
        if (pendingReads >= 0 && pendingReads-- === 0) {
          reply.forEach((w, i) => (mem[i] = w));
          bits |= R.V2PMAILBOX_PFACK | R.V2PMAILBOX_PFSTS; // together, as the emulator does
        }
        const v = bits;
        bits &= ~R.V2PMAILBOX_R2C_BITS;
        log.push(`rd mbx ${v.toString(16)}`);
        return v;
      }
      const i = (off - R.VMBMEM(0)) / 4;
      log.push(`rd mem${i}`);
      return mem[i]!;
    },
    write32(off, val) {
      if (off === R.V2PMAILBOX) {
        log.push(`wr mbx ${val.toString(16)}`);
        bits = (bits & ~R.V2PMAILBOX_VFU) | (val & R.V2PMAILBOX_VFU);
        if (val & R.V2PMAILBOX_REQ) pendingReads = delay;
        return;
      }
      const i = (off - R.VMBMEM(0)) / 4;
      mem[i] = val;
      log.push(`wr mem${i} ${val.toString(16)}`);
    },
  };
  return { port, log };
}

describe('igbvf mailbox protocol', () => {
  it('posted write + posted read in the order of igbvf-vf.md 3.3, PFSTS kept from the PFACK read', () => {
    const { port, log } = scriptedMailbox([0x80000001, 0x44332211, 0x6655]);
    const mbx = new IgbvfMailbox(port, { tries: 10, delayUs: 1 });
    expect(mbx.transact([R.VF_RESET], 3)).toEqual([0x80000001, 0x44332211, 0x6655]);
    expect(log).toEqual([
      'wr mbx 4', 'rd mbx 4',           // lock: VFU, read back
      'rd mbx 4', 'rd mbx 4',           // flush stale PFSTS, PFACK
      'wr mem0 1', 'wr mbx 1',          // message, REQ (drops VFU)
      'rd mbx 30',                      // PFACK and PFSTS in one read
      'rd mbx 0',                       // PFSTS check: the register no longer has it, the
                                        // software copy does (else this would time out)
      'wr mbx 4', 'rd mbx 4',
      'rd mem0', 'rd mem1', 'rd mem2', 'wr mbx 2', // read, ACK
    ]);
  });

  it('waits are bounded, call service() between tries, and leave the mailbox refused', () => {
    const { port } = scriptedMailbox([0], 1_000_000); // the PF never answers
    let serviced = 0;
    const mbx = new IgbvfMailbox(port, { tries: 25, delayUs: 10 }, () => void serviced++);
    expect(() => mbx.postWrite([R.VF_SET_VLAN, 1])).toThrow(/timed out after 25 tries.*PFACK/);
    expect(serviced).toBe(25);
    expect(mbx.isTimedOut).toBe(true);
    expect(() => mbx.postWrite([R.VF_SET_VLAN, 1])).toThrow(/reset the VF first/);
    mbx.resetState();
    expect(mbx.isTimedOut).toBe(false);
  });

  it('a reply that comes after a few tries is picked up', () => {
    const { port } = scriptedMailbox([0xa0000004], 5);
    const mbx = new IgbvfMailbox(port, { tries: 50, delayUs: 1 });
    expect(mbx.transact([R.VF_SET_VLAN | (1 << 16), 7], 1)).toEqual([0xa0000004]);
  });

  it('rejects malformed requests at the edge', () => {
    const { port } = scriptedMailbox([0]);
    const mbx = new IgbvfMailbox(port, { tries: 1, delayUs: 1 });
    expect(() => mbx.write([])).toThrow(RangeError);
    expect(() => mbx.write(new Array(17).fill(0))).toThrow(RangeError);
    expect(() => mbx.read(0)).toThrow(RangeError);
  });

  it('the passthrough port reaches only the queue pages', () => {
    const bar = new VfBarMapping(fakeOs, -1);
    const p = bar.port();
    expect(() => p.write32(R.V2PMAILBOX, 1)).toThrow(RangeError);
    expect(() => p.read32(R.CTRL)).toThrow(RangeError);
    expect(() => p.write32(R.RDT(0) + 2, 1)).toThrow(RangeError);
    p.write32(R.TDT(1), 5);
    expect(p.read32(R.TDT(1))).toBe(5);
    bar.unmap();
    expect(() => p.read32(R.TDT(1))).toThrow(/unmapped/);
  });
});
