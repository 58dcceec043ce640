/**
 * Per-topic configuration: names and defaults as in Kafka, validated when a topic is created
 * (and later altered). Values travel and persist as strings, like Kafka's; `resolveTopicConfig`
 * turns them into typed values.
 */
import { EddyError } from '../../protocol/errors.js';

export interface TopicConfig {
  retentionMs: number;
  retentionBytes: number;
  maxMessageBytes: number;
  cleanupPolicy: 'delete' | 'compact' | 'compact,delete';
  minInsyncReplicas: number;
  deleteRetentionMs: number;
}

interface Spec {
  default: string;
  doc: string;
  check(value: string): string | null; // null = valid, else why not
}

const long = (min: number) => (v: string) =>
  /^-?\d+$/.test(v) && Number.isSafeInteger(Number(v)) && Number(v) >= min ? null : `must be an integer ≥ ${min}`;

export const TOPIC_CONFIGS: Readonly<Record<string, Spec>> = {
  'retention.ms': { default: '604800000', doc: 'delete batches older than this (ms); -1 = forever', check: long(-1) },
  'retention.bytes': { default: '-1', doc: 'delete the oldest batches past this size per partition; -1 = no limit', check: long(-1) },
  'max.message.bytes': { default: '1048588', doc: 'largest record batch accepted (bytes)', check: long(64) },
  'cleanup.policy': {
    default: 'delete',
    doc: 'delete, compact, or compact,delete',
    check: (v) => (normalisePolicy(v) ? null : 'must be delete, compact, or compact,delete'),
  },
  'min.insync.replicas': { default: '1', doc: 'replicas that must have a write for acks=all', check: long(1) },
  'delete.retention.ms': {
    default: '86400000',
    doc: 'compacted topics: how long a tombstone (null value) stays after its timestamp (ms)',
    check: long(0),
  },
};

function normalisePolicy(v: string): TopicConfig['cleanupPolicy'] | null {
  const parts = v.split(',').map((p) => p.trim()).filter(Boolean).sort();
  const key = parts.join(',');
  if (key === 'delete') return 'delete';
  if (key === 'compact') return 'compact';
  if (key === 'compact,delete') return 'compact,delete';
  return null;
}

const unknownConfig = (name: string) => `unknown config "${name}" (known: ${Object.keys(TOPIC_CONFIGS).join(', ')})`;

/** The normalised map and every unknown name or bad value, without throwing. */
function checkTopicConfigs(configs: Record<string, string>): { out: Record<string, string>; problems: string[] } {
  const problems: string[] = [];
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(configs)) {
    const spec = TOPIC_CONFIGS[name];
    if (!spec) {
      problems.push(unknownConfig(name));
      continue;
    }
    const why = spec.check(value);
    if (why) problems.push(`${name}=${value} ${why}`);
    else out[name] = name === 'cleanup.policy' ? normalisePolicy(value)! : value;
  }
  return { out, problems };
}

/** Throws INVALID_CONFIG naming every unknown name and bad value. Returns the normalised map. */
export function validateTopicConfigs(configs: Record<string, string>): Record<string, string> {
  const { out, problems } = checkTopicConfigs(configs);
  if (problems.length > 0) throw new EddyError('INVALID_CONFIG', problems.join('; '));
  return out;
}

/** An incremental change of a topic's configs (Kafka's IncrementalAlterConfigs SET and DELETE). */
export interface TopicConfigChanges {
  /** Configs to set on the topic. */
  set?: Readonly<Record<string, string>>;
  /** Configs to remove from the topic, so that they revert to the default. */
  delete?: readonly string[];
}

/**
 * The topic's configs after `changes`. Throws INVALID_CONFIG naming every unknown name and bad
 * value (set or deleted), and INVALID_REQUEST for a name both set and deleted. Deleting a config
 * the topic does not set is not an error: it is already at its default.
 */
export function applyTopicConfigChanges(current: Readonly<Record<string, string>>, changes: TopicConfigChanges): Record<string, string> {
  const set = changes.set ?? {};
  const del = changes.delete ?? [];
  const both = del.filter((n) => Object.hasOwn(set, n));
  if (both.length > 0) throw new EddyError('INVALID_REQUEST', `config ${both.join(', ')} is both set and deleted; do one or the other`);
  const { out, problems } = checkTopicConfigs({ ...set });
  for (const name of del) if (!TOPIC_CONFIGS[name]) problems.push(unknownConfig(name));
  if (problems.length > 0) throw new EddyError('INVALID_CONFIG', problems.join('; '));
  const next: Record<string, string> = { ...current, ...out };
  for (const name of del) delete next[name];
  return next;
}

export function resolveTopicConfig(configs: Record<string, string>): TopicConfig {
  const get = (n: string) => configs[n] ?? TOPIC_CONFIGS[n]!.default;
  return {
    retentionMs: Number(get('retention.ms')),
    retentionBytes: Number(get('retention.bytes')),
    maxMessageBytes: Number(get('max.message.bytes')),
    cleanupPolicy: normalisePolicy(get('cleanup.policy'))!,
    minInsyncReplicas: Number(get('min.insync.replicas')),
    deleteRetentionMs: Number(get('delete.retention.ms')),
  };
}

/** Every config with its effective value and where it comes from. */
export function describeTopicConfig(configs: Record<string, string>): { name: string; value: string; source: 'topic' | 'default' }[] {
  return Object.entries(TOPIC_CONFIGS).map(([name, spec]) =>
    configs[name] !== undefined ? { name, value: configs[name]!, source: 'topic' } : { name, value: spec.default, source: 'default' },
  );
}
