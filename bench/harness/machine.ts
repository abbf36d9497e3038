/**
 * The machine a run was measured on, recorded with every result: CPU model and counts,
 * frequency and governor, whether it is a VM, kernel, distribution, Node and V8, the git
 * revision (and whether the tree had local changes), memory, load averages at start and
 * end, and the cost of the clock. Every probe is best effort: a fact that cannot be read is
 * null, never guessed.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { MachineInfo } from '../result-types.js';
import { nativeBuildDir, repoRoot } from '../../mediator/native/addon.js';
import { calibrateTimer } from '../trials/clock.js';

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: repoRoot(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
  } catch {
    return null;
  }
}

/** Physical cores: distinct (physical id, core id) pairs of /proc/cpuinfo. */
function physicalCores(cpuinfo: string | null): number | null {
  if (!cpuinfo) return null;
  const pairs = new Set<string>();
  for (const block of cpuinfo.split(/\n\n+/)) {
    const phys = /^physical id\s*:\s*(\d+)/m.exec(block)?.[1];
    const core = /^core id\s*:\s*(\d+)/m.exec(block)?.[1];
    if (phys !== undefined && core !== undefined) pairs.add(`${phys}:${core}`);
  }
  return pairs.size || null;
}

function distro(): string | null {
  const rel = readText('/etc/os-release');
  const m = rel ? /^PRETTY_NAME="?([^"\n]*)"?/m.exec(rel) : null;
  return m?.[1] ?? null;
}

const round2 = (v: number): number => Math.round(v * 100) / 100;

export function loadAvg(): number[] {
  return os.loadavg().map(round2);
}

export function collectMachine(): MachineInfo {
  const cpus = os.cpus();
  const cpuinfo = readText('/proc/cpuinfo');
  const flags = cpuinfo ? /^flags\s*:(.*)$/m.exec(cpuinfo)?.[1] ?? null : null;
  const mhz = cpuinfo ? /^cpu MHz\s*:\s*([\d.]+)/m.exec(cpuinfo)?.[1] : undefined;
  const rev = git(['rev-parse', 'HEAD']);
  const status = rev ? git(['status', '--porcelain', '--untracked-files=no']) : null;
  const timer = calibrateTimer();
  return {
    cpuModel: cpus[0]?.model.trim() || 'unknown',
    logicalCpus: cpus.length,
    physicalCores: physicalCores(cpuinfo),
    cpuMHz: mhz ? Math.round(Number(mhz)) : (cpus[0]?.speed || null),
    hypervisor: flags === null ? null : /\bhypervisor\b/.test(flags),
    governor: readText('/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor')?.trim() ?? null,
    os: os.platform(),
    distro: distro(),
    kernel: os.release(),
    kernelVersion: os.version(),
    arch: os.arch(),
    node: process.version,
    v8: process.versions.v8,
    gitRevision: rev,
    gitDirty: status === null ? null : status.length > 0,
    hostname: os.hostname(),
    memTotalBytes: os.totalmem(),
    loadAvgStart: loadAvg(),
    loadAvgEnd: loadAvg(),
    timer: { source: 'process.hrtime.bigint (CLOCK_MONOTONIC)', overheadNs: timer.overheadNs, resolutionNs: timer.resolutionNs },
    addonBuildDir: nativeBuildDir(),
  };
}
