/**
 * The guest's Node runs the compiled mediator (dist/, over virtio-9p), not the TypeScript
 * sources, so the kernel tests make sure dist/ is current first: `npm test` compiles it
 * (pretest), but `npx vitest run tests/kernel` alone does not. Compiles with the project's
 * tsc when any mediator/*.ts is newer than its .js (or has none).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

function staleFiles(repo: string, dir: string, out: string[]): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      staleFiles(repo, p, out);
    } else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) {
      const js = join(repo, 'dist', relative(repo, p)).replace(/\.ts$/, '.js');
      if (!existsSync(js) || statSync(js).mtimeMs < statSync(p).mtimeMs) out.push(relative(repo, p));
    }
  }
}

/** Compiles the TypeScript when dist/ lags behind mediator/; returns what was stale. */
export function ensureDist(repo: string): string[] {
  const stale: string[] = [];
  staleFiles(repo, join(repo, 'mediator'), stale);
  if (stale.length === 0) return stale;
  try {
    execFileSync(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', join(repo, 'tsconfig.json')], {
      cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    const err = e as { stdout?: string; message: string };
    throw new Error(`dist/ is stale (${stale.slice(0, 3).join(', ')}...) and tsc failed: ${err.message}\n${err.stdout ?? ''}`);
  }
  return stale;
}
