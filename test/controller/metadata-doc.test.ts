import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RECORD_TYPES, type RecordTypeName } from '../../node/controller/metadata/records.js';

const doc = readFileSync(new URL('../../node/controller/metadata/METADATA.md', import.meta.url), 'utf8');

describe('METADATA.md', () => {
  it('lists every record type with its id and fields', () => {
    for (const name of Object.keys(RECORD_TYPES) as RecordTypeName[]) {
      const t = RECORD_TYPES[name];
      expect(doc).toMatch(new RegExp(`\\| ${t.id} \\| ${name}Record \\|`));
      for (const f of [...t.versions[0]!.doc.matchAll(/(\w+): /g)].map((m) => m[1]!)) expect(doc, `${name}.${f}`).toMatch(new RegExp(`\\b${f}\\b`));
    }
  });
});
