/**
 * `vfmed status [--json]`: asks the daemon for its status (control command `status`) and
 * prints it as tables (the daemon and PF, one row per bound VF, the uplink) or as the JSON
 * document itself (schema: mediator/daemon/status.ts). `vfmed stop` asks the daemon to
 * stop and waits until its control socket is gone.
 */
import type { Command } from 'commander';
import Table from 'cli-table3';
import { callDaemon } from '../daemon/control-client.js';
import { socketAnswers } from '../daemon/control-server.js';
import type { DaemonStatus, VfStatus } from '../daemon/status.js';
import { addDaemonAddressOptions, controlPath, type DaemonAddressFlags } from './daemon-options.js';
import { CommandFailed, oneLine } from './failure.js';

const plain = { head: [] as string[], style: { head: [] as string[], border: [] as string[] } };

function pagesOf(a: number[]): string {
  return a.map((n, p) => (n ? `p${p}:${n}` : '')).filter(Boolean).join(' ') || '-';
}

function vfRow(v: VfStatus): string[] {
  const q = v.queues[0]!;
  const qs = (x: { enabled: boolean; head: number; tail: number; size: number; error: number }): string =>
    x.enabled ? `${x.head}/${x.tail} of ${x.size}${x.error ? ` ERR ${x.error}` : ''}` : 'off';
  return [
    `vf${v.vf}`, v.mac, v.client ? `pid ${v.client.pid}` : '-',
    `${v.link}${v.clearToSend ? '' : ' (no CTS)'}`,
    `${v.tx.packets} / ${v.tx.bytes}`, `${v.rx.packets} / ${v.rx.bytes}`,
    `${v.rx.fifoDrops} / ${v.dmaErrors} / ${v.tx.errors}`,
    `rx ${qs(q.rx)}, tx ${qs(q.tx)}`,
    `r ${pagesOf(v.trapped.bar0.reads)}; w ${pagesOf(v.trapped.bar0.writes)}`,
  ];
}

export function renderStatus(s: DaemonStatus): string {
  const out: string[] = [];
  out.push(`vfmed ${s.daemon.version}, pid ${s.daemon.pid}, up ${s.daemon.uptimeS} s, run dir ${s.daemon.runDir}`);
  out.push(`PF: ${s.pf.driver}, ${s.pf.numVfs} of ${s.pf.maxVfs} VFs enabled, link ${s.pf.linkSpeedMbps} Mb/s, `
    + `mailbox service ${s.pf.service.handled} handled / ${s.pf.service.errors} errors`);
  if (s.vfs.length === 0) {
    out.push("no VFs bound (vfmed bind --vfs N)");
  } else {
    const t = new Table({
      ...plain,
      head: ['VF', 'MAC', 'client', 'link', 'TX pkts / bytes', 'RX pkts / bytes', 'drops / DMA err / TX err',
        'queue 0 head/tail', 'trapped BAR0 accesses'],
    });
    for (const v of s.vfs) t.push(vfRow(v));
    out.push(t.toString());
    out.push(`sockets: ${s.vfs.map((v) => v.socket).join(', ')}`);
  }
  const u = s.uplink;
  out.push(`uplink: ${u.egress.frames} frames out (${u.egress.unclaimed} to no backend), ${u.ingress.frames} in `
    + `(${u.ingress.filtered} filtered)`);
  if (u.capture) {
    out.push(`  capture ${u.capture.file}: ${u.capture.frames} frames, ${u.capture.bytes} bytes`
      + `${u.capture.error ? `, error ${u.capture.error}` : ''}`);
  }
  if (u.tap) {
    out.push(`  TAP ${u.tap.name}: ${u.tap.txFrames} out (${u.tap.txDrops} dropped), ${u.tap.rxFrames} in `
      + `(${u.tap.rxDrops} dropped, ${u.tap.rxBad} bad)${u.tap.error ? `, error ${u.tap.error}` : ''}`);
  }
  for (const r of u.replays) {
    out.push(`  replay ${r.name}: ${r.state}, ${r.injected} injected, ${r.dropped} dropped, ${r.passes} passes, `
      + `rate ${r.rate}${r.error ? `, error ${r.error}` : ''}`);
  }
  return `${out.join('\n')}\n`;
}

export function addStatusCommands(program: Command): void {
  addDaemonAddressOptions(program
    .command('status')
    .description('show the daemon: VFs, clients, link, counters, uplink backends')
    .option('--json', 'print the status as JSON'))
    .action(async (flags: DaemonAddressFlags & { json?: boolean }) => {
      let s: DaemonStatus;
      try {
        s = await callDaemon<DaemonStatus>(controlPath(flags), 'status');
      } catch (e) {
        throw new CommandFailed(`vfmed status: ${oneLine(e)}`);
      }
      process.stdout.write(flags.json ? `${JSON.stringify(s, null, 2)}\n` : renderStatus(s));
    });

  addDaemonAddressOptions(program
    .command('stop')
    .description('stop the daemon (VFs unbound, clients disconnected, capture finished)'))
    .action(async (flags: DaemonAddressFlags) => {
      const path = controlPath(flags);
      try {
        await callDaemon(path, 'stop');
      } catch (e) {
        throw new CommandFailed(`vfmed stop: ${oneLine(e)}`);
      }
      for (let i = 0; i < 200; i++) {
        if (!(await socketAnswers(path, 200))) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new CommandFailed(`vfmed stop: the daemon still answers on ${path} after 10 s`);
    });
}
