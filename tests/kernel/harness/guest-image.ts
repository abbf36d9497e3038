/**
 * Builds the kernel test's guest image once per set of inputs: runs
 * scripts/kernel/guest-image.sh (fetch the Debian kernel, build the PF module and the static
 * guest programs, pack the initramfs) into .cache/kernel-test/, and skips the build when a
 * stamp of every input file's content matches (both kernel test files use the same image).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface GuestImage {
  kver: string;
  /** The kernel QEMU boots: the ELF vmlinux (PVH entry, no decompression at boot). */
  kernel: string;
  initrd: string;
  kmod: string;
  /** Wall time of the build, 0 when the stamp matched. */
  buildMs: number;
}

/** Every file under these paths feeds the image. */
const INPUTS = [
  'tests/kernel/guest', 'scripts/kernel', 'scripts/build-kmod.sh', 'native/include',
  'pf-driver/core', 'pf-driver/linux',
];

function listFiles(root: string, rel: string, out: string[]): void {
  const p = join(root, rel);
  if (!existsSync(p)) return;
  if (statSync(p).isDirectory()) {
    for (const e of readdirSync(p).sort()) listFiles(root, join(rel, e), out);
  } else {
    out.push(rel);
  }
}

function inputsHash(repo: string): string {
  const h = createHash('sha256');
  const files: string[] = [];
  for (const i of INPUTS) listFiles(repo, i, files);
  for (const f of files) {
    // Build products inside pf-driver/linux (Kbuild writes next to the sources) are not inputs.
    if (/\.(o|ko|mod|mod\.c|cmd|order|symvers)$/.test(f) || /\/\.[^/]*\.cmd$/.test(f)) continue;
    // Node scripts are not in the image: the guest reads them from the host (virtio-9p).
    if (f.endsWith('.mjs')) continue;
    h.update(f).update('\0').update(readFileSync(join(repo, f))).update('\0');
  }
  return h.digest('hex');
}

function parseAssignments(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0 && /^[A-Z_]+$/.test(line.slice(0, i))) m.set(line.slice(0, i), line.slice(i + 1));
  }
  return m;
}

export function buildGuestImage(repo: string): GuestImage {
  const out = join(repo, '.cache', 'kernel-test');
  const stampFile = join(out, 'stamp.json');
  const hash = inputsHash(repo);
  if (existsSync(stampFile)) {
    const s = JSON.parse(readFileSync(stampFile, 'utf8')) as GuestImage & { hash: string };
    if (s.hash === hash && existsSync(s.initrd) && existsSync(s.kernel ?? '')) return { ...s, buildMs: 0 };
  }
  const t0 = Date.now();
  let stdout: string;
  try {
    stdout = execFileSync('bash', [join(repo, 'scripts/kernel/guest-image.sh'), out], {
      cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20,
    });
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; message: string };
    throw new Error(`building the guest image failed: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
  }
  const a = parseAssignments(stdout);
  const img: GuestImage = {
    kver: a.get('KVER') ?? '', kernel: a.get('VMLINUX') ?? '', initrd: a.get('INITRD') ?? '',
    kmod: a.get('KMOD') ?? '', buildMs: Date.now() - t0,
  };
  if (!img.kver || !existsSync(img.kernel) || !existsSync(img.initrd)) {
    throw new Error(`guest-image.sh printed no usable paths:\n${stdout}`);
  }
  writeFileSync(stampFile, JSON.stringify({ ...img, hash }));
  return img;
}
