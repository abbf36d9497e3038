// The TAP backend: the daemon bridges its uplink to a TAP interface, the test moves that
// interface into a network namespace it creates itself, gives it an address there, and
// pings a guest runner (`echo` workload: answers ARP and ICMP echo for its IP) through the
// emulated VF:
//
//   netns: ping 192.0.2.1 -> tap (192.0.2.2/24) ══ daemon: TAP fd ─ uplink ─ switch ─ VF0
//                                                                   guest runner: echo
//
// Addresses are TEST-NET-1 and live only inside the namespace; the namespace (unique name)
// and the TAP (it vanishes with the daemon's fd) are always torn down. Needs root
// (CAP_NET_ADMIN for /dev/net/tun and ip netns).
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GuestProcess } from '../../mediator/guest/guest-process.js';
import { DaemonProc } from './helpers/daemon-proc.js';

const isRoot = process.getuid?.() === 0;
const tag = `${process.pid % 100000}${Math.floor(Math.random() * 100)}`;
const NS = `vfmedt-${tag}`;
const TAP = `vft${tag}`.slice(0, 15);
const HOST_IP = '192.0.2.2';
const GUEST_IP = '192.0.2.1';

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
}

describe.skipIf(!isRoot)('ping through TAP to an echo guest (root)', () => {
  let d: DaemonProc | undefined;
  let echo: GuestProcess | undefined;
  let nsMade = false;

  beforeAll(async () => {
    ip('netns', 'add', NS);
    nsMade = true;
    d = await DaemonProc.start(['--max-vfs', '1', '--vfs', '1', '--tap', TAP], 'tap');
  });

  afterAll(async () => {
    echo?.kill('SIGKILL');
    if (echo) await echo.exited;
    await d?.stop();
    d?.cleanup();
    if (nsMade) spawnSync('ip', ['netns', 'del', NS]);
    // the TAP went with the daemon's fd, wherever it was
    expect(spawnSync('ip', ['link', 'show', TAP]).status).not.toBe(0);
  });

  it('gets every echo reply, and the guest answered ARP and ICMP', async () => {
    const st = await d!.status();
    expect(st.uplink.tap?.name).toBe(TAP);
    echo = GuestProcess.spawn('echo', ['echo', '--socket', join(d!.runDir, 'vf0.sock'), '--ip', GUEST_IP,
      '--stats-interval', '0']);
    await echo.waitFor('init', 20_000);

    ip('link', 'set', 'dev', TAP, 'netns', NS);
    ip('-n', NS, 'link', 'set', 'lo', 'up');
    ip('-n', NS, 'addr', 'add', `${HOST_IP}/24`, 'dev', TAP);
    ip('-n', NS, 'link', 'set', TAP, 'up');

    const ping = spawnSync('ip', ['netns', 'exec', NS, 'ping', '-c', '5', '-i', '0.2', '-W', '2', GUEST_IP],
      { encoding: 'utf8', timeout: 30_000 });
    expect(ping.stdout).toMatch(/5 packets transmitted, 5 received, 0% packet loss/);
    expect(ping.status).toBe(0);
    // the guest's MAC is what the host stack learned
    const neigh = execFileSync('ip', ['-n', NS, 'neigh', 'show', GUEST_IP], { encoding: 'utf8' });
    expect(neigh).toMatch(/lladdr 02:76:66:6d:01:00/);

    echo.kill('SIGTERM');
    const ex = await echo.finish(10_000);
    expect(ex.code).toBe(0);
    expect(ex.summary!['echo_icmp_replies']).toBe(5);
    expect(ex.summary!['echo_arp_replies'] as number).toBeGreaterThanOrEqual(1);
    echo = undefined;

    const after = await d!.status();
    expect(after.uplink.tap!.rxFrames).toBeGreaterThanOrEqual(6); // ARP + 5 echo requests (+ IPv6 chatter)
    expect(after.uplink.tap!.txFrames).toBeGreaterThanOrEqual(6); // ARP reply + 5 echo replies
    expect(after.uplink.tap!.error).toBeNull();
  });
});
