/**
 * vfmed-guest as a vfio-user client, end to end against the fake server: the message
 * sequence and byte layouts of bring-up and teardown, the sparse-mmap BAR0 mapping
 * (pages 2-3 direct, 0-1 trapped), the mailbox reset handshake, ring programming, and TX
 * frames seen on the fake device's wire.
 */
import { describe, expect, it } from 'vitest';

import { lineOf, session } from './guest-harness.js';

const N = 40;

describe('vfio-user bring-up and TX', () => {
  it('negotiates, maps BAR0 sparsely, resets the VF through the mailbox and sends frames', async () => {
    const { guest, lines, report } = await session('txgen', ['--count', String(N)]);
    expect(guest.stderr).toBe('');
    expect(guest.code).toBe(0);
    expect(report.violations).toEqual([]);

    // Message sequence: VMM bring-up, then MMIO exits, then teardown.
    const c = report.commands;
    expect(c.slice(0, 8)).toEqual([
      'VERSION',
      'DEVICE_GET_INFO',
      'DEVICE_GET_REGION_INFO',
      'DEVICE_GET_REGION_INFO',
      'DEVICE_GET_IRQ_INFO',
      'DEVICE_SET_IRQS',
      'DEVICE_RESET',
      'DMA_MAP',
    ]);
    expect(c.slice(-2)).toEqual(['DEVICE_SET_IRQS', 'DMA_UNMAP']);
    expect(c.slice(8, -2).every((x) => x === 'REGION_READ' || x === 'REGION_WRITE')).toBe(true);

    // VERSION: 0.1 with NUL-terminated JSON capabilities.
    expect(report['client_version']).toEqual([0, 1]);
    expect(report['client_caps']).toEqual({ capabilities: { max_msg_fds: 8, max_data_xfer_size: 1048576 } });
    // GET_REGION_INFO: bare struct first, then again with the argsz the server asked for
    // (32 + sparse cap header 16 + one area 16).
    expect(report['region_info_requests']).toEqual([
      { index: 0, argsz: 32 },
      { index: 0, argsz: 64 },
    ]);
    // Layout IRQ: one eventfd on index 5, detached at teardown (count 0, DATA_NONE|TRIGGER).
    expect(report['set_irqs']).toEqual([
      { flags: 0x24, index: 5, start: 0, count: 1, fds: 1 },
      { flags: 0x21, index: 5, start: 0, count: 0, fds: 0 },
    ]);
    // Guest RAM: one memfd mapping at IOVA 0, readable and writable, unmapped at the end.
    expect(report['dma_maps']).toEqual([{ argsz: 32, flags: 3, offset: 0, addr: 0, size: 16 << 20, fds: 1 }]);
    expect(report['dma_unmaps']).toEqual([{ argsz: 24, flags: 0, addr: 0, size: 16 << 20 }]);
    expect(report.dma_maps_left).toBe(0);
    // PCI: memory decoding and bus mastering enabled.
    expect(report.config_command & 0x6).toBe(0x6);

    // The guest's view.
    const init = lineOf(lines, 'init');
    expect(init).toMatchObject({
      mode: 'vfio-user',
      pci_id: '8086:10ca',
      vfio_user_version: '0.1',
      mac: '02:00:00:00:00:01',
      link_up: true,
      layout_irq: true,
      bar0_mapped_pages: [2, 3],
      bar0_trapped_pages: [0, 1],
      state_gpa: 0x1000,
      tx_ring_gpa: 0x10000,
      rx_ring_gpa: 0x20000,
    });

    // Mailbox: CTRL.RST, then VF_RESET answered with the MAC; interrupts masked first.
    expect(report.vf_resets).toBe(1);
    expect(report.eimc).toBe(0xffffffff);
    expect(report.eiac).toBe(0);
    expect(report.mailbox[0]).toMatchObject({ request: 1, reply: 0x80000001 });
    expect(report.mailbox[1]).toEqual({ vf_ack: true });

    // Ring programming (through the mapped queue pages).
    const q = report.queue_regs;
    expect(q['tdbal']).toBe(0x10000);
    expect(q['tdlen']).toBe(256 * 16);
    expect(q['rdbal']).toBe(0x20000);
    expect(q['rdlen']).toBe(256 * 16);
    expect(q['srrctl']).toBe(0x82000002); // DROP_EN | advanced one-buffer | 2 KiB
    expect(q['rdt']).toBe(255);
    expect(q['tdt']).toBe(N);
    expect(q['txdctl']! & 0x02000000).toBe(0); // disabled again at teardown
    expect(q['rxdctl']! & 0x02000000).toBe(0);

    // The wire: N tagged frames in order, from our MAC to broadcast.
    expect(report.tx_count).toBe(N);
    expect(report.tx_frames.map((f) => f.seq)).toEqual([...Array(N).keys()]);
    for (const f of report.tx_frames) {
      expect(f).toMatchObject({ len: 60, dst: 'ff:ff:ff:ff:ff:ff', src: '02:00:00:00:00:01', ethertype: '88b5', stream: 0, tag_ok: true });
    }
    // Passthrough: every tail write went to the mapped page, none through REGION_WRITE.
    expect(report.trapped_tdt_writes).toBe(0);
    expect(report['trapped_writes_of_mapped_pages']).toBeUndefined();
    expect(report['trapped_reads_of_mapped_pages']).toBeUndefined();

    // Every MMIO exit became exactly one REGION message (plus 3 config accesses and the
    // 4 statistics registers the summary reads after its counters were taken).
    const sum = lineOf(lines, 'summary');
    expect(sum).toMatchObject({ reason: 'count', tx_packets: N, tx_undrained: 0, mmio_errors: 0 });
    expect(sum['device']).toMatchObject({ vfgptc: N, vfgotc: N * 64 });
    expect(report.region_reads).toBe((sum['mmio_reads'] as number) + 2 + 4);
    expect(report.region_writes).toBe((sum['mmio_writes'] as number) + 1);
  });

  it('sets a requested MAC with SET_MAC_ADDR and uses it as the source address', async () => {
    const { guest, lines, report } = await session('txgen', ['--count', '3', '--mac', '02:11:22:33:44:55']);
    expect(guest.code).toBe(0);
    expect(report.violations).toEqual([]);
    const setMac = report.mailbox.find((m) => m.request === 2);
    expect(setMac).toMatchObject({ words: [2, 0x33221102, 0x5544], reply: 0xa0000002 /* SET_MAC_ADDR | ACK | CTS */ });
    expect(lineOf(lines, 'init')).toMatchObject({ mac: '02:11:22:33:44:55', mac_nacked: false });
    expect(report.tx_frames.every((f) => f.src === '02:11:22:33:44:55')).toBe(true);
  });

  it('keeps the PF-assigned MAC when the PF refuses SET_MAC_ADDR', async () => {
    const { guest, lines, report } = await session('txgen', ['--count', '3', '--mac', '02:11:22:33:44:55'], ['--scenario', 'nack-mac']);
    expect(guest.code).toBe(0);
    expect(lineOf(lines, 'init')).toMatchObject({ mac: '02:00:00:00:00:01', mac_nacked: true });
    expect(report.tx_frames.every((f) => f.src === '02:00:00:00:00:01')).toBe(true);
  });

  it('serves DMA_WRITE/DMA_READ from guest RAM while an MMIO exit waits, and refuses bad ones', async () => {
    const { guest, lines, report } = await session('txgen', ['--count', '5'], ['--scenario', 'dma-rw']);
    expect(guest.code).toBe(0);
    expect(report.violations).toEqual([]);
    expect(report['dma_exercise']).toEqual({
      write_ok: true,
      read_ok: true,
      ram_matches: true,
      outside_refused: true,
      unknown_refused: true,
    });
    expect(lineOf(lines, 'summary')['dma_served']).toBe(2);
  });
});
