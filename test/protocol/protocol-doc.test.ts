import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Apis } from '../../protocol/apis/index.js';
import { ERRORS } from '../../protocol/errors.js';

const doc = readFileSync(new URL('../../protocol/PROTOCOL.md', import.meta.url), 'utf8');

/** Every field name in a schema, recursively (struct fields, array items). */
function fieldNames(t: unknown, out = new Set<string>()): Set<string> {
  const s = t as { fields?: Record<string, unknown>; doc?: string };
  if (s.fields) {
    for (const [k, v] of Object.entries(s.fields)) {
      out.add(k);
      fieldNames(v, out);
    }
  }
  return out;
}

describe('PROTOCOL.md', () => {
  it('documents every API with its key', () => {
    for (const [name, api] of Object.entries(Apis)) expect(doc).toContain(`### ${name} (key ${api.key})`);
  });

  it('names every field of every request and response schema', () => {
    for (const api of Object.values(Apis)) {
      for (const v of api.versions) {
        // Array item structs are reached through the doc string; cover them by name too.
        const names = new Set([...fieldNames(v.request), ...fieldNames(v.response), ...[...v.request.doc.matchAll(/(\w+): /g), ...v.response.doc.matchAll(/(\w+): /g)].map((m) => m[1]!)]);
        for (const f of names) expect(doc, `${api.name}: field ${f}`).toMatch(new RegExp(`\\b${f}\\b`));
      }
    }
  });

  it('lists every error code with its name', () => {
    for (const [name, spec] of Object.entries(ERRORS)) {
      expect(doc).toMatch(new RegExp(`\\| ${spec.code < 0 ? '−' + -spec.code : spec.code} \\| ${name} \\| ${spec.retriable ? 'yes' : 'no'} \\|`));
    }
  });
});
