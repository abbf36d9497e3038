/**
 * The PF driver's service loop in the daemon: the emulated PF signals an eventfd on every
 * event (a VF mailbox request or ACK, a VF reset, a link change: VFPF_EVENT_SEQ bumps); the
 * daemon watches it on the event loop and runs PfDriver.service(), which answers the VF
 * mailboxes the way the igb PF driver does. No timer: a guest's VF_RESET handshake is
 * answered as soon as the event arrives.
 *
 *   VF writes V2PMAILBOX.REQ ─▶ device ─▶ PF event seq++ ─▶ eventfd ─▶ FdWatch ─▶ service()
 */
import type { Logger } from 'pino';
import type { NativeAddon, NativeNic } from '../native/addon.js';
import type { PfDriver } from '../pf/pf-driver.js';
import { watchFd, type NativeFdWatch } from '../wire/wire-native.js';

export class PfService {
  readonly #addon: NativeAddon;
  readonly #nic: NativeNic;
  readonly #pf: PfDriver;
  readonly #log: Logger;
  readonly #fd: number;
  readonly #watch: NativeFdWatch;
  #events = 0;
  #handled = 0;
  #errors = 0;
  #closed = false;

  constructor(addon: NativeAddon, nic: NativeNic, pf: PfDriver, log: Logger) {
    this.#addon = addon;
    this.#nic = nic;
    this.#pf = pf;
    this.#log = log;
    this.#fd = addon.eventfdCreate();
    try {
      nic.setPfEventFd(this.#fd);
      this.#watch = watchFd(this.#fd, (errno) => this.#onEvent(errno));
    } catch (e) {
      addon.close(this.#fd);
      throw e;
    }
    this.run(); // anything that happened before the watch existed
  }

  get counters(): { events: number; handled: number; errors: number } {
    return { events: this.#events, handled: this.#handled, errors: this.#errors };
  }

  /** One service pass now (e.g. right after SR-IOV was enabled). */
  run(): void {
    if (this.#closed) return;
    try {
      this.#handled += this.#pf.service();
    } catch (e) {
      this.#errors++;
      // A failing service pass must not take the daemon down; rate-limit the noise.
      if (this.#errors <= 10 || this.#errors % 1000 === 0) {
        this.#log.error({ err: e, errors: this.#errors }, 'PF driver service failed');
      }
    }
  }

  #onEvent(errno: number): void {
    if (errno) {
      this.#log.error({ errno }, 'PF event fd: polling failed; VF mailboxes are no longer serviced');
      return;
    }
    this.#events++;
    this.#addon.eventfdRead(this.#fd);
    this.run();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#watch.close();
    try {
      this.#nic.setPfEventFd(-1);
    } catch { /* the NIC may already be gone */ }
    this.#addon.close(this.#fd);
  }
}
