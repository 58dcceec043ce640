import type { Counter } from 'prom-client';

/**
 * A counter's children by one key, created on first use: the hot paths count with a Map lookup
 * instead of prom-client's label hashing on every call.
 */
export function cached<L extends string>(counter: Counter<L>, labels: (key: string) => string[]): (key: string) => Counter.Internal {
  const children = new Map<string, Counter.Internal>();
  return (key) => {
    let child = children.get(key);
    if (!child) children.set(key, (child = counter.labels(...labels(key))));
    return child;
  };
}
