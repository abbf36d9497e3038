// Runs the built harness (dist/bench/main.js, the same command as `vfmed bench`) as a child
// process, the way a user or CI does, and returns its exit status and output; plus a
// scratch directory helper. The child inherits the environment (VFMED_BUILD_DIR etc.).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../mediator/native/addon.js';

const main = join(repoRoot(), 'dist', 'bench', 'main.js');

export function bench(args: string[]): { code: number | null; stdout: string; stderr: string } {
  if (!existsSync(main)) throw new Error(`${main} missing: run "npm run build" first`);
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function scratch(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `vfmed-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** stderr lines that are not empty. */
export function lines(s: string): string[] {
  return s.split('\n').filter((l) => l.trim() !== '');
}
