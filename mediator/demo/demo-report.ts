/**
 * Presentation of a `vfmed demo` result: two cli-table3 tables for a terminal (streams with
 * their per-receiver verification, then per-VF counters as the driver, the device and the
 * PF driver see them) and a JSON document for scripts (64-bit counters as numbers while
 * they are exact, as decimal strings beyond 2^53).
 */
import Table from 'cli-table3';
import type { DemoResult } from './demo.js';

const num = (v: bigint | number): string => v.toString();

export function renderDemo(r: DemoResult): string {
  const out: string[] = [];
  const streams = new Table({
    head: ['stream', 'from', 'to', 'sent', 'receiver', 'verified', 'corrupt', 'lost', 'dup'],
    colAligns: ['left', 'left', 'left', 'right', 'left', 'right', 'right', 'right', 'right'],
    style: { head: [], border: [], compact: true },
  });
  for (const s of r.streams) {
    s.receivers.forEach((x, i) => {
      streams.push([
        i === 0 ? s.name : '', i === 0 ? s.from : '', i === 0 ? s.to : '', i === 0 ? num(s.sent) : '',
        x.receiver, num(x.verified), num(x.corrupt), num(x.lost), num(x.duplicate),
      ]);
    });
  }
  out.push(streams.toString());

  const vfs = new Table({
    head: ['counter', ...r.vfs.map((v) => `VF${v.vf}`)],
    colAligns: ['left', ...r.vfs.map(() => 'right' as const)],
    style: { head: [], border: [], compact: true },
  });
  const row = (label: string, f: (v: DemoResult['vfs'][number]) => string): void => {
    vfs.push([label, ...r.vfs.map(f)]);
  };
  row('MAC (from the PF at VF_RESET)', (v) => v.mac);
  row('driver: frames sent', (v) => num(v.driver.txFrames));
  row('driver: frames / bytes received', (v) => `${num(v.driver.rxFrames)} / ${num(v.driver.rxBytes)}`);
  row('device: TX packets / bytes', (v) => `${num(v.device.txPackets)} / ${num(v.device.txBytes)}`);
  row('device: RX packets / bytes', (v) => `${num(v.device.rxPackets)} / ${num(v.device.rxBytes)}`);
  row('VF regs: VFGPTC / VFGPRC', (v) => `${num(v.regs.gptc)} / ${num(v.regs.gprc)}`);
  row('VF regs: VFGPTLBC / VFGPRLBC', (v) => `${num(v.regs.gptlbc)} / ${num(v.regs.gprlbc)}`);
  row('VF regs: VFMPRC (multicast)', (v) => num(v.regs.mprc));
  row('PF VF_STATS: TX / RX packets', (v) => `${num(v.pf.txPackets)} / ${num(v.pf.rxPackets)}`);
  row('RX FIFO drops', (v) => num(v.device.fifoDrops));
  row('DMA errors / TX errors', (v) => `${num(v.device.dmaErrors)} / ${num(v.device.txErrors)}`);
  out.push(vfs.toString());

  const total = r.streams.length * r.framesPerStream;
  out.push(`uplink: ${r.uplink.frames} frames taken (the broadcasts)`);
  if (r.ok) {
    out.push(`PASS: ${r.streams.length} streams x ${r.framesPerStream} frames (${total}) delivered and verified byte for byte, in order`);
  } else {
    out.push(`FAIL: ${r.problems.length ? r.problems.length + ' problem(s), first:' : 'frames missing'}`);
    for (const p of r.problems) out.push(`  - ${p}`);
  }
  return out.join('\n') + '\n';
}

/** JSON with bigints as numbers when exact, decimal strings otherwise. */
export function demoJson(r: DemoResult): string {
  return JSON.stringify(
    r,
    (_k, v: unknown) =>
      typeof v === 'bigint' ? (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString()) : v,
    2,
  ) + '\n';
}
