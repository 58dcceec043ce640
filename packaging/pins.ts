/** packaging/pins.json, typed. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PackageRef } from './fetch-package.js';
import type { Arch } from './targets.js';

export interface Pins {
  node: { version: string; packages: Record<Arch, { name: string; integrity: string }> };
  sqlite: { package: PackageRef; addonApi: PackageRef };
}

export function readPins(root: string): Pins {
  return JSON.parse(readFileSync(join(root, 'packaging', 'pins.json'), 'utf8')) as Pins;
}

export function nodeRef(pins: Pins, arch: Arch): PackageRef {
  const p = pins.node.packages[arch];
  return { name: p.name, version: pins.node.version, integrity: p.integrity };
}
