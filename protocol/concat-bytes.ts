/** One buffer holding `parts` in order (`total`: their summed length, when the caller has it); a single part is returned as is. */
export function concatBytes(parts: readonly Uint8Array[], total: number = parts.reduce((n, p) => n + p.length, 0)): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
