/**
 * Bad input of every kind gets a clear error and a defined exit status: malformed or
 * hostile server replies, a server that disappears during an MMIO exit, a PF without a MAC,
 * wrong command lines; and the run stops cleanly on a signal or after --duration.
 */
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { jsonLines, lineOf, runGuest, session, tempDir } from './guest-harness.js';

describe('hostile or broken servers', () => {
  it.each([
    ['bad-version', /VERSION negotiation: Protocol error — server replied with a different major version/],
    ['bad-json', /VERSION negotiation: Protocol error — a numeric capability is not a non-negative integer/],
    ['region-no-fd', /BAR0 region info: Protocol error — BAR0 has mmap-able areas but the reply carried no file descriptor/],
    ['no-mac', /VF reset handshake: .* the PF has no MAC address for this VF \(VF_RESET NACK\)/],
  ])('%s: refuses with a clear message and exit status 1', async (scenario, message) => {
    const { guest, report } = await session('txgen', ['--count', '5'], ['--scenario', scenario]);
    expect(guest.code).toBe(1);
    expect(guest.stderr).toMatch(message);
    expect(report.tx_count).toBe(0);
    expect(report.violations).toEqual([]);
  });

  it('exits with status 4 when the server vanishes during an MMIO exit', async () => {
    const { guest, report } = await session('txgen', ['--count', '5'], ['--scenario', 'close-mid']);
    expect(report['closed_mid_run']).toBe(true);
    expect(guest.code).toBe(4);
    expect(guest.stderr).toMatch(/lost the vfio-user connection during REGION_(READ|WRITE) of BAR0\+0x[0-9a-f]+ .*the guest cannot continue/);
  });

  it('reports a missing server socket after the connect timeout', async () => {
    const t = tempDir();
    try {
      const r = await runGuest(['txgen', '--socket', join(t.dir, 'nobody.sock'), '--connect-timeout', '100']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/connecting to the vfio-user server: No such file or directory/);
    } finally {
      t.cleanup();
    }
  });
});

describe('stopping', () => {
  it('stops on SIGTERM with a summary and a clean teardown', async () => {
    const { guest, lines, report } = await session('txgen', ['--rate', '2000'], [], { killAfterMs: 700 });
    expect(guest.code).toBe(0);
    expect(lineOf(lines, 'summary')).toMatchObject({ reason: 'signal' });
    expect(report.commands.slice(-2)).toEqual(['DEVICE_SET_IRQS', 'DMA_UNMAP']);
    expect(report.violations).toEqual([]);
  });

  it('stops after --duration and prints periodic stats lines', async () => {
    const { guest, lines } = await session('txgen', ['--rate', '1000', '--duration', '0.5', '--stats-interval', '50']);
    expect(guest.code).toBe(0);
    const stats = lines.filter((l) => l.type === 'stats');
    expect(stats.length).toBeGreaterThanOrEqual(1);
    for (let i = 1; i < stats.length; i++) {
      expect(stats[i]!['tx_packets'] as number).toBeGreaterThanOrEqual(stats[i - 1]!['tx_packets'] as number);
    }
    const sum = lineOf(lines, 'summary');
    expect(sum['reason']).toBe('duration');
    // Paced: never more than the rate allows for the time that passed.
    expect(sum['tx_packets'] as number).toBeLessThanOrEqual(Math.ceil(((sum['elapsed_ms'] as number) / 1000) * 1000) + 1);
    expect(lines[lines.length - 1]!.type).toBe('summary');
  });
});

describe('command line', () => {
  it.each([
    [[], /missing workload/],
    [['dance'], /unknown workload 'dance'/],
    [['txgen'], /exactly one of --socket PATH and --uio PATH is required/],
    [['txgen', '-s', 'a', '--uio', 'b'], /exactly one of --socket PATH and --uio PATH is required/],
    [['txgen', '-s', 'a', '--ring', '12'], /--ring must be a multiple of 8/],
    [['txgen', '-s', 'a', '--ring', '8192'], /invalid value '8192' for --ring/],
    [['txgen', '-s', 'a', '--mac', '01:00:00:00:00:01'], /invalid unicast MAC/],
    [['txgen', '-s', 'a', '--mac', '02:00:00:00:00'], /invalid unicast MAC/],
    [['txgen', '-s', 'a', '--size', '59'], /--size must be in 60..1514/],
    [['txgen', '-s', 'a', '--size', '1515'], /invalid value '1515' for --size/],
    [['txgen', '-s', 'a', '--ram', '1X'], /invalid value '1X' for --ram/],
    [['txgen', '-s', 'a', '--ram', '5000'], /--ram must be a multiple of 4 KiB/],
    [['txgen', '-s', 'a', '--count', '-1'], /invalid value '-1' for --count/],
    [['txgen', '-s', 'a', '--duration', '0'], /invalid duration '0'/],
    [['txgen', '-s', 'a', '--streams', '17'], /invalid value '17' for --streams/],
    [['echo', '-s', 'a'], /echo needs --ip/],
    [['echo', '-s', 'a', '--ip', '10.0.0.300'], /invalid IPv4 address/],
    [['rxsink', '-s', 'a', '--pcap', 'x.pcap'], /--pcap applies to txgen and loopback only/],
    [['txgen', '--uio', 'x', '--trap-all'], /--trap-all needs --socket/],
    [['txgen', '-s', 'a', 'extra'], /unexpected argument 'extra'/],
    [['txgen', '-s', 'a', '--frobnicate'], /invalid option/],
  ])('%j is a usage error', async (args, message) => {
    const r = await runGuest(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it('prints the help', async () => {
    const r = await runGuest(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/usage: vfmed-guest <workload>/);
    expect(jsonLines('')).toEqual([]);
  });

  it('refuses guest RAM too small for the rings before touching the device', async () => {
    const r = await runGuest(['txgen', '--socket', '/nonexistent', '--ram', '256k', '--ring', '4096']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/guest RAM: .*--ram 256 KiB is below the \d+ KiB the rings and buffers need/);
  });
});
