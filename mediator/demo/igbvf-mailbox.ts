/**
 * The VF side of the 82576 PF/VF mailbox, exactly as igbvf / DPDK's e1000 base code drive
 * it (igbvf-vf.md 3.1 and 3.3), over the trapped register path (V2PMAILBOX has read side
 * effects, so it can never be a plain shared-memory load).
 *
 *   posted write: lock(VFU) -> flush stale PFSTS/PFACK -> VMBMEM[0..n) -> REQ -> wait PFACK
 *   posted read:  wait PFSTS -> lock(VFU) -> read VMBMEM[0..n) -> ACK (releases VFU)
 *
 * V2PMAILBOX's RSTD, PFACK and PFSTS clear on read. Like the Linux driver we keep a
 * software copy of those bits, so one read that returns PFACK and PFSTS together does not
 * lose the bit we were not waiting for yet. Waits are bounded (2000 x 500 us by default, the
 * driver's budget) and run `service()` between tries. After a timeout the mailbox is
 * "timed out" and refuses posted operations until the VF is reset, as in igbvf.
 */
import { constants } from 'node:os';
import { VfmedError } from '../errors.js';
import { pollUntil, type PollBudget } from './bounded-wait.js';
import type { RegPort } from './vf-reg-port.js';
import {
  V2PMAILBOX, V2PMAILBOX_ACK, V2PMAILBOX_PFACK, V2PMAILBOX_PFSTS, V2PMAILBOX_R2C_BITS,
  V2PMAILBOX_REQ, V2PMAILBOX_VFU, VMBMEM, VMBMEM_WORDS,
} from './vf-regs.js';

export const MBX_DEFAULT_BUDGET: PollBudget = { tries: 2000, delayUs: 500 };

export class IgbvfMailbox {
  /** Software copy of the read-to-clear bits seen but not yet consumed. */
  private sticky = 0;
  /** Set after a timeout: posted operations fail until `resetState()` (VF reset). */
  private timedOut = false;
  /** Messages sent and received, for diagnostics. */
  readonly counters = { posted: 0, read: 0, timeouts: 0 };

  constructor(
    private port: RegPort,
    private readonly budget: PollBudget = MBX_DEFAULT_BUDGET,
    private service?: () => void,
  ) {}

  /** Points the mailbox at another BAR (after the VF moved to another device), and at the
   * PF that serves it there. */
  rebind(port: RegPort, service?: () => void): void {
    this.port = port;
    if (service) this.service = service;
  }

  /** igbvf e1000_read_v2p_mailbox: the register ORed with the unconsumed sticky bits. */
  readMailbox(): number {
    const v = this.port.read32(V2PMAILBOX) >>> 0;
    const merged = (v | this.sticky) >>> 0;
    this.sticky = (this.sticky | (v & V2PMAILBOX_R2C_BITS)) >>> 0;
    return merged;
  }

  /** igbvf e1000_check_for_bit_vf: is any bit of `mask` set? Consumes those bits. */
  checkBit(mask: number): boolean {
    const hit = (this.readMailbox() & mask) !== 0;
    this.sticky = (this.sticky & ~mask) >>> 0;
    return hit;
  }

  /** Called after CTRL.RST completed: sticky bits and the timed-out state start over. */
  resetState(): void {
    this.sticky = 0;
    this.timedOut = false;
  }

  get isTimedOut(): boolean {
    return this.timedOut;
  }

  private lock(): void {
    // The PF never holds PFU while we try to lock (3.3), so this normally succeeds at once;
    // it is still bounded in case the PF side misbehaves.
    this.wait(() => {
      this.port.write32(V2PMAILBOX, V2PMAILBOX_VFU);
      return (this.readMailbox() & V2PMAILBOX_VFU) !== 0;
    }, 'the mailbox lock (VFU)');
  }

  private wait(cond: () => boolean, what: string): void {
    try {
      pollUntil(cond, what, this.budget, this.service, 'VFMED_ERR_MBX_TIMEOUT');
    } catch (e) {
      this.timedOut = true;
      this.counters.timeouts++;
      throw e;
    }
  }

  private checkUsable(op: string): void {
    if (this.timedOut) {
      throw new VfmedError(
        'VFMED_ERR_MBX_TIMEOUT',
        `mailbox ${op} refused: an earlier mailbox operation timed out; reset the VF first`,
        constants.errno.ETIMEDOUT,
      );
    }
  }

  /** Non-posted write: lock, flush stale PFSTS/PFACK, copy the message, ring REQ. */
  write(msg: readonly number[]): void {
    if (msg.length < 1 || msg.length > VMBMEM_WORDS) {
      throw new RangeError(`mailbox message of ${msg.length} words (1..${VMBMEM_WORDS})`);
    }
    this.lock();
    this.checkBit(V2PMAILBOX_PFSTS);
    this.checkBit(V2PMAILBOX_PFACK);
    msg.forEach((w, i) => this.port.write32(VMBMEM(i), w >>> 0));
    this.port.write32(V2PMAILBOX, V2PMAILBOX_REQ); // rings the PF, drops VFU
  }

  /** Non-posted read: lock, copy `words` words out, ACK (which also drops VFU). */
  read(words: number): number[] {
    if (!Number.isInteger(words) || words < 1 || words > VMBMEM_WORDS) {
      throw new RangeError(`mailbox read of ${words} words (1..${VMBMEM_WORDS})`);
    }
    this.lock();
    const out: number[] = [];
    for (let i = 0; i < words; i++) out.push(this.port.read32(VMBMEM(i)) >>> 0);
    this.port.write32(V2PMAILBOX, V2PMAILBOX_ACK);
    this.counters.read++;
    return out;
  }

  /** Posted write: write, then wait (bounded) for the PF's PFACK. */
  postWrite(msg: readonly number[]): void {
    this.checkUsable('post');
    this.write(msg);
    this.wait(() => this.checkBit(V2PMAILBOX_PFACK), `PFACK for message 0x${(msg[0]! >>> 0).toString(16)}`);
    this.counters.posted++;
  }

  /** Posted read: wait (bounded) for PFSTS, then read `words` words. */
  postRead(words: number): number[] {
    this.checkUsable('read');
    this.wait(() => this.checkBit(V2PMAILBOX_PFSTS), 'PFSTS (a PF reply)');
    return this.read(words);
  }

  /** Request/reply: posted write, then posted read of `replyWords` words. */
  transact(msg: readonly number[], replyWords: number): number[] {
    this.postWrite(msg);
    return this.postRead(replyWords);
  }
}
