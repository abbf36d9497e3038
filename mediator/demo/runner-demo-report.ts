/**
 * Presentation of the `vfmed demo` result (runner-demo.ts): one table per view — what the
 * two guest runners counted, then what the device, the PF driver and the vfio-user server
 * saw per VF — and a PASS/FAIL line; or the result as JSON.
 */
import Table from 'cli-table3';
import type { RunnerDemoResult } from './runner-demo.js';

const style = { head: [] as string[], border: [] as string[], compact: true };

function pages(a: number[]): string {
  return a.map((x) => String(x)).join(' / ');
}

export function renderRunnerDemo(r: RunnerDemoResult): string {
  const out: string[] = [];
  out.push(`vfmed demo: emulated PF with ${r.vfs.length} VFs (PF driver libvfpf), one vfio-user socket per VF, `
    + `two guest runners (vfmed-guest processes), ${r.frames} frames of ${r.frameBytes} bytes`);
  const g = new Table({
    head: ['guest', 'VF', 'MAC', 'workload', 'sent', 'received', 'forwarded', 'lost', 'dup', 'reordered', 'corrupt',
      'MMIO exits r/w', 'BAR0 pages mapped'],
    colAligns: ['left', 'left', 'left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'left'],
    style,
  });
  r.guests.forEach((x, i) => g.push([
    i === 0 ? 'A' : 'B', `vf${x.vf}`, x.mac, x.workload, x.sent, x.received, x.forwarded, x.lost, x.duplicated,
    x.reordered, x.corrupted, `${x.mmioReads} / ${x.mmioWrites}`, x.bar0MappedPages.join(', ') || '-',
  ]));
  out.push(g.toString());

  const v = new Table({
    head: ['seen by the daemon', ...r.vfs.map((x) => `VF${x.vf}`)],
    colAligns: ['left', ...r.vfs.map(() => 'right' as const)],
    style,
  });
  const row = (label: string, f: (x: RunnerDemoResult['vfs'][number]) => string): void => {
    v.push([label, ...r.vfs.map(f)]);
  };
  row('device: TX packets / bytes', (x) => `${x.tx.packets} / ${x.tx.bytes}`);
  row('device: RX packets / bytes', (x) => `${x.rx.packets} / ${x.rx.bytes}`);
  row('PF driver VF_STATS: TX / RX packets', (x) => `${x.pf.txPackets} / ${x.pf.rxPackets}`);
  row('RX FIFO drops / DMA errors / TX errors', (x) => `${x.rx.fifoDrops} / ${x.dmaErrors} / ${x.tx.errors}`);
  row('REGION_READs, BAR0 page 0/1/2/3', (x) => pages(x.trapped.bar0.reads));
  row('REGION_WRITEs, BAR0 page 0/1/2/3', (x) => pages(x.trapped.bar0.writes));
  out.push(v.toString());
  const rtt = r.elapsedMs > 0 ? (r.frames / (r.elapsedMs / 1000) / 1e6).toFixed(2) : '?';
  out.push(`uplink: ${r.uplinkFrames} frames (VF-to-VF traffic stays in the switch); `
    + `${(r.elapsedMs / 1000).toFixed(2)} s from guest B up to the end, guest A's bring-up included (${rtt} M round trips/s)`);
  if (r.ok) {
    out.push(`PASS: ${r.frames} frames VF0 -> VF1 -> VF0, each back exactly once, in order, intact; `
      + 'queue doorbells (pages 2-3) all passthrough');
  } else {
    out.push(`FAIL: ${r.problems.length} problem(s):`);
    for (const p of r.problems) out.push(`  - ${p}`);
  }
  return `${out.join('\n')}\n`;
}

export function runnerDemoJson(r: RunnerDemoResult): string {
  return `${JSON.stringify(r, (_k, x: unknown) => (typeof x === 'bigint' ? Number(x) : x), 2)}\n`;
}
