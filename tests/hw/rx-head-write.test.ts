// A software RDH write right after RXDCTL.ENABLE (DPDK's eth_igbvf_rx_init order, the one
// igbvf-vf.md 2.1 and 5 say the device must accept) must never be lost, however the
// device's polling interleaves with it. Scenario: a DPDK-style restart of an RX queue that
// has been used (device head != 0): stop (disable, seen by the device), then start
// (program the ring, ENABLE, RDH = 0, RDT = n - 1). If the device stores its stale head
// into RDH after the driver's 0 landed, it writes the next frame into slot 1 while the
// driver waits on slot 0: RX is stuck. Repeated many times so an interleaving that only
// a few restarts in a thousand hit still shows up.
import { afterEach, describe, expect, it } from 'vitest';
import { HwRig, vfMac } from '../helpers/rig.js';
import { waitUntil } from '../helpers/wait.js';
import { buildFrame } from '../../mediator/demo/frames.js';

describe('software RDH write after enable', () => {
  let rig: HwRig;
  afterEach(() => rig.close());

  it('is never overwritten by the device (1500 queue restarts)', () => {
    rig = new HwRig({ maxVfs: 2, numVfs: 2 });
    const a = rig.guest(0, { pmd: { rxRingSize: 16, rxBatch: 1, rxInitOrder: 'dpdk' } });
    const b = rig.guest(1, { pmd: { txRingSize: 64 } });
    a.pmd.init();
    b.pmd.init();
    const rx = a.pmd.rxRing(0);
    const lost: string[] = [];
    for (let i = 0; i < 1500 && lost.length === 0; i++) {
      const f = buildFrame({ dst: vfMac(0), src: vfMac(1), stream: 1, seq: i, len: 64 });
      const before = rig.info(0).rxPackets;
      b.pmd.tx([f]);
      waitUntil(() => rig.info(0).rxPackets === before + 1n, `frame ${i} delivered`);
      const got = a.pmd.rx();
      if (got.length !== 1 || !got[0]!.data.equals(f)) {
        lost.push(`restart ${i}: the driver expects the frame in slot ${rx.indices.clean}, ` +
          `the device head is ${rig.info(0).queues[0].rxHead}`);
        break;
      }
      // Restart: stop, let the device see it, start again (DPDK order).
      a.pmd.stop();
      waitUntil(() => !rig.info(0).queues[0].rxEnabled, 'RX queue stopped');
      rx.program(a.pmd.queuePort);
    }
    expect(lost).toEqual([]);
  });
});
