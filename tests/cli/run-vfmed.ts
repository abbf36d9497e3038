// Runs the built `vfmed` command (dist/mediator/cli/main.js) as a child process, as a user
// would, and returns its exit status and output. The child inherits the environment, so
// the ASan run (scripts/build-asan.sh) exercises the CLI under the sanitizers too.
import { spawnSync } from 'node:child_process';
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
