/**
 * The layers point one way (README "Where things are"): cli → app → firmware-bridge/gateway →
 * node → protocol → runtime, and the client SDK needs nothing of the server. Each source file's
 * relative imports are read and checked against what its folder may import.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return /\.(ts|js)$/.test(e.name) ? [path] : [];
  });
}

/** Every relative import of a file, as a path from the repository root. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const specs = [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]!);
  return specs.map((s) => relative(ROOT, resolve(dirname(join(ROOT, file)), s)));
}

/** Folder → the top-level folders (or sub-folders) its files may import from. */
const ALLOWED: [folder: string, may: string[]][] = [
  ['runtime', ['runtime']],
  ['protocol', ['protocol', 'runtime']],
  ['node', ['node', 'protocol', 'runtime']],
  ['gateway/client', ['gateway/client', 'protocol']],
  ['gateway', ['gateway', 'node', 'protocol']],
  ['firmware-bridge', ['firmware-bridge', 'node', 'protocol']],
  ['app', ['app', 'gateway', 'firmware-bridge', 'node', 'protocol', 'runtime']],
];

const under = (path: string, folder: string) => path === folder || path.startsWith(`${folder}/`);

describe('layering', () => {
  for (const [folder, may] of ALLOWED) {
    it(`${folder}/ imports only from ${may.join(', ')}`, () => {
      const files = sources(folder).filter((f) => !ALLOWED.some(([other]) => other !== folder && other.startsWith(`${folder}/`) && under(f, other)));
      expect(files.length).toBeGreaterThan(0);
      const wrong = files.flatMap((f) => importsOf(f).filter((target) => !may.some((m) => under(target, m))).map((target) => `${f} → ${target}`));
      expect(wrong).toEqual([]);
    });
  }
});
