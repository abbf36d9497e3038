// Runs the built `vfmed` command (dist/mediator/cli/main.js) as a child process, as a user
// would, and returns its exit status and output. The child inherits the environment, so
// the ASan run (scripts/build-asan.sh) exercises the CLI under the sanitizers too.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../mediator/native/addon.js';

const main = join(repoRoot(), 'dist', 'mediator', 'cli', 'main.js');

export function vfmed(args: string[], env: NodeJS.ProcessEnv = process.env): {
  code: number | null; stdout: string; stderr: string;
} {
  if (!existsSync(main)) throw new Error(`${main} missing: run "npm run build" first`);
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', env, timeout: 120_000 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The same, without blocking this process's event loop (for tests whose fakes react to
 * what the command does while it runs). */
export function vfmedAsync(args: string[], opts: { env?: NodeJS.ProcessEnv; uid?: number; gid?: number } = {}): Promise<{
  code: number | null; stdout: string; stderr: string;
}> {
  if (!existsSync(main)) throw new Error(`${main} missing: run "npm run build" first`);
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [main, ...args], {
      env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'],
      ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid } : {}),
    });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => c.kill('SIGKILL'), 60_000);
    c.on('error', reject);
    c.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}
