/**
 * The node's configuration: one typed object, built once at start-up and validated with one
 * clear message per bad field. Sources, highest first: command-line flags, EDDY_* environment
 * variables, the JSON config file (--config / EDDY_CONFIG; keys are the flag names without
 * "--"), embedded defaults. Nothing else in the node reads process.env.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { isEddyError } from '../protocol/errors.js';
import { checkClusterSettings } from './cluster/cluster-settings.js';
import { MAX_NODE_ID, parseVoters, type Voter } from './cluster/voters.js';
import { parseSyncPolicy, type SyncPolicy } from './storage/sync-policy.js';

export interface NodeConfig {
  /** Directory holding the node's data (the log store file `log.db` and its WAL). */
  dataDir: string;
  /** Interface the WebSocket listener binds to. */
  host: string;
  /** WebSocket port; 0 picks a free one. */
  port: number;
  /** When appends reach the disk: `always` (default) or `interval:<ms>`. */
  sync: SyncPolicy;
  logLevel: LogLevel;
  /** How log lines look: `json` (one object a line), `pretty` (for people), or `auto`: pretty when stderr is a terminal. */
  logFormat: LogFormat;
  /** Largest request frame accepted, in bytes. */
  maxFrameBytes: number;
  /** Health and metrics HTTP port (same host as the WebSocket); null when disabled (--no-http). 0 picks a free port. */
  httpPort: number | null;
  /** Embedded MQTT listener port; null when disabled (--no-mqtt). 0 picks a free port. */
  mqttPort: number | null;
  /** MQTT → Eddy mapping rules from the config file ("mqtt-rules"), unparsed; null for the default. */
  mqttRules: unknown;
  /** Where MQTT messages that cannot be stored go ("mqtt-dead-letter-topic"); null drops them. */
  mqttDeadLetterTopic: string | null;
  /** Create topics named by MQTT rules on first use; when false such messages are refused. */
  mqttAutoCreateTopics: boolean;
  /** Bridges from external brokers: --mqtt-bridge/--mqtt-bridge-topic, or "mqtt-bridges" in the file. */
  mqttBridges: MqttBridgeConfig[];
  /** Disk budget for the log store (log.db + WAL); new records are refused from 95 % of it. null: no budget. */
  maxDiskBytes: number | null;
  /** How often retention deletes expired batches (Kafka's log.retention.check.interval.ms). */
  retentionCheckIntervalMs: number;
  /** An idempotent producer idle this long is forgotten (Kafka's producer.id.expiration.ms). */
  producerIdExpirationMs: number;
  /** Snapshot the metadata image (and cut the metadata log) every this many committed records (KIP-630). */
  metadataSnapshotRecords: number;
  /** How often a node heartbeats to the active controller (Kafka's broker.heartbeat.interval.ms). */
  brokerHeartbeatIntervalMs: number;
  /** The active controller fences a broker not heard from this long (Kafka's broker.session.timeout.ms). */
  brokerSessionTimeoutMs: number;
  /** This node's id in the cluster (Kafka's node.id). 1 when no cluster setting is given; required with voters. */
  nodeId: number;
  /**
   * The controller quorum (Kafka's controller.quorum.voters), or null: a one-voter cluster of
   * this node alone, at its own advertised URL. A node whose id is not listed is an observer.
   */
  controllerQuorumVoters: Voter[] | null;
  /** File holding the secret peer links authenticate with; required with more than one voter. */
  /** The cluster id a new data dir takes (every node of a cluster the same); null: a new random one. */
  clusterId: string | null;
  clusterSecretFile: string | null;
  /** The secret read from clusterSecretFile at start-up, trimmed; null without one. */
  clusterSecret: Buffer | null;
  /** Peer links connect to the node's WebSocket port at this path (clients use any other path). */
  peerPath: string;
}

export interface MqttBridgeConfig {
  /** mqtt://host:port (or mqtts://). */
  url: string;
  /** Filters subscribed at QoS 1. */
  topics: string[];
  /** Fixed across restarts, so the broker keeps the session and queues while Eddy is down. */
  clientId: string;
}

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

interface Field<T> {
  /** Flag name without "--"; also the config file key. */
  name: string;
  /** Environment variable; none for values only a config file can express (lists). */
  env?: string;
  default: T;
  parse(raw: string | number | boolean): T;
}

function text(raw: string | number | boolean): string {
  if (typeof raw !== 'string') throw new Error(`expected text, got ${typeof raw === 'number' ? 'the number' : 'the boolean'} ${raw}`);
  return raw;
}

function boolean(raw: string | number | boolean): boolean {
  if (raw === true || raw === 'true') return true;
  if (raw === false || raw === 'false') return false;
  throw new Error('must be true or false');
}

function integer(min: number, max: number) {
  return (raw: string | number | boolean): number => {
    if (typeof raw === 'boolean') throw new Error(`must be a whole number from ${min} to ${max}`);
    const n = typeof raw === 'number' ? raw : /^\d+$/.test(raw.trim()) ? Number(raw) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`must be a whole number from ${min} to ${max}`);
    return n;
  };
}

/** A listener port, or "off" (the config file's and environment's way of saying `offFlag`). */
function portOrOff(offFlag: string) {
  return (raw: string | number | boolean): number | null => {
    if (raw === 'off') return null;
    try {
      return integer(0, 65535)(raw);
    } catch {
      throw new Error(`must be a port number from 0 to 65535 (0 = any free port), or "off" (as ${offFlag})`);
    }
  };
}

const BYTE_UNITS: Record<string, number> = {
  b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40,
};

/** A size in bytes: a whole number, or a number with a unit (500MB, 2GiB; KB = 1000, KiB = 1024). */
function byteSize(min: number, minText: string) {
  return (raw: string | number | boolean): number => {
    const problem = `must be a size in bytes of at least ${minText}: a whole number, or with a unit such as 500MB or 2GiB`;
    if (typeof raw === 'boolean') throw new Error(problem);
    let n = NaN;
    if (typeof raw === 'number') n = raw;
    else {
      const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(raw);
      const unit = m ? BYTE_UNITS[(m[2] || 'b').toLowerCase()] : undefined;
      if (m && unit !== undefined) n = Math.floor(Number(m[1]) * unit);
    }
    if (!Number.isSafeInteger(n) || n < min) throw new Error(problem);
    return n;
  };
}

/** Scalar settings; the bridge list is assembled separately (see `bridges`), the secret read from its file (see checkClusterSettings). */
type ScalarKey = Exclude<keyof NodeConfig, 'mqttBridges' | 'clusterSecret'>;

const FIELDS: { [K in ScalarKey]: Field<NodeConfig[K]> } = {
  dataDir: {
    name: 'data-dir',
    env: 'EDDY_DATA_DIR',
    default: './eddy-data',
    parse(raw) {
      const s = text(raw);
      if (s.trim() === '') throw new Error('must be a directory path, not empty');
      return s;
    },
  },
  host: {
    name: 'host',
    env: 'EDDY_HOST',
    default: '127.0.0.1',
    parse(raw) {
      const s = text(raw).trim();
      if (s === '' || /\s/.test(s)) throw new Error('must be a host name or IP address');
      return s;
    },
  },
  port: { name: 'port', env: 'EDDY_PORT', default: 9400, parse: integer(0, 65535) },
  sync: {
    name: 'sync',
    env: 'EDDY_SYNC',
    default: { kind: 'always' },
    parse(raw) {
      try {
        return parseSyncPolicy(text(raw));
      } catch (err) {
        throw new Error(isEddyError(err) ? err.detail : (err as Error).message);
      }
    },
  },
  logLevel: {
    name: 'log-level',
    env: 'EDDY_LOG_LEVEL',
    default: 'info',
    parse(raw) {
      const s = text(raw);
      if (!(LOG_LEVELS as readonly string[]).includes(s)) throw new Error(`must be one of ${LOG_LEVELS.join(', ')}`);
      return s as LogLevel;
    },
  },
  logFormat: {
    name: 'log-format',
    env: 'EDDY_LOG_FORMAT',
    default: 'auto',
    parse(raw) {
      const s = text(raw);
      if (!(LOG_FORMATS as readonly string[]).includes(s)) throw new Error('must be json, pretty or auto (pretty when stderr is a terminal, else json)');
      return s as LogFormat;
    },
  },
  maxFrameBytes: { name: 'max-frame-bytes', env: 'EDDY_MAX_FRAME_BYTES', default: 8 * 1024 * 1024, parse: integer(1024, 1024 * 1024 * 1024) },
  httpPort: {
    name: 'http-port',
    env: 'EDDY_HTTP_PORT',
    default: 9401,
    parse: portOrOff('--no-http'),
  },
  mqttPort: {
    name: 'mqtt-port',
    env: 'EDDY_MQTT_PORT',
    default: 1883,
    parse: portOrOff('--no-mqtt'),
  },
  mqttRules: { name: 'mqtt-rules', default: null, parse: (raw) => raw },
  mqttDeadLetterTopic: { name: 'mqtt-dead-letter-topic', env: 'EDDY_MQTT_DEAD_LETTER_TOPIC', default: null, parse: (raw) => text(raw) },
  mqttAutoCreateTopics: { name: 'mqtt-auto-create-topics', env: 'EDDY_MQTT_AUTO_CREATE_TOPICS', default: true, parse: boolean },
  maxDiskBytes: { name: 'max-disk-bytes', env: 'EDDY_MAX_DISK_BYTES', default: null, parse: byteSize(1024 * 1024, '1 MiB') },
  retentionCheckIntervalMs: {
    name: 'retention-check-interval-ms',
    env: 'EDDY_RETENTION_CHECK_INTERVAL_MS',
    default: 30_000,
    parse: integer(100, 24 * 60 * 60 * 1000),
  },
  producerIdExpirationMs: {
    name: 'producer-id-expiration-ms',
    env: 'EDDY_PRODUCER_ID_EXPIRATION_MS',
    default: 86_400_000,
    parse: integer(1000, 365 * 24 * 60 * 60 * 1000),
  },
  metadataSnapshotRecords: {
    name: 'metadata-snapshot-records',
    env: 'EDDY_METADATA_SNAPSHOT_RECORDS',
    default: 1000,
    parse: integer(10, 10_000_000),
  },
  brokerHeartbeatIntervalMs: {
    name: 'broker-heartbeat-interval-ms',
    env: 'EDDY_BROKER_HEARTBEAT_INTERVAL_MS',
    default: 500,
    parse: integer(10, 60_000),
  },
  brokerSessionTimeoutMs: {
    name: 'broker-session-timeout-ms',
    env: 'EDDY_BROKER_SESSION_TIMEOUT_MS',
    default: 9_000,
    parse: integer(100, 10 * 60_000),
  },
  nodeId: { name: 'node-id', env: 'EDDY_NODE_ID', default: 1, parse: integer(0, MAX_NODE_ID) },
  controllerQuorumVoters: {
    name: 'controller-quorum-voters',
    env: 'EDDY_CONTROLLER_QUORUM_VOTERS',
    default: null,
    parse: (raw) => parseVoters(text(raw)),
  },
  clusterId: {
    name: 'cluster-id',
    env: 'EDDY_CLUSTER_ID',
    default: null,
    parse(raw) {
      const s = text(raw);
      if (!/^[A-Za-z0-9_-]{22}$/.test(s)) throw new Error('must be 22 characters of base64url, as `eddy cluster new-id` prints');
      return s;
    },
  },
  clusterSecretFile: {
    name: 'cluster-secret-file',
    env: 'EDDY_CLUSTER_SECRET_FILE',
    default: null,
    parse(raw) {
      const s = text(raw);
      if (s.trim() === '') throw new Error('must be a file path, not empty');
      return s;
    },
  },
  peerPath: {
    name: 'peer-path',
    env: 'EDDY_PEER_PATH',
    default: '/eddy-peer',
    parse(raw) {
      const s = text(raw);
      if (!/^\/[A-Za-z0-9._~\-/]+$/.test(s)) throw new Error('must be a URL path such as /eddy-peer: a "/" and then letters, digits, ".", "_", "~", "-" or "/"');
      return s;
    },
  },
};

/** Every key a config file may hold: the flag names, and the lists only a file can express. */
export const CONFIG_FILE_KEYS: readonly string[] = [...Object.values(FIELDS).map((f) => f.name), 'mqtt-bridges'];

/** Every problem found, so an operator fixes them all in one go. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface ConfigSources {
  /** Values given as flags (undefined when absent), keyed by field name. */
  flags?: Partial<Record<keyof NodeConfig | 'config' | 'mqtt' | 'http' | 'mqttBridge' | 'mqttBridgeTopic', unknown>>;
  env?: Record<string, string | undefined>;
}

/** Reads and checks the JSON config file: an object whose keys are flag names. */
function readConfigFile(path: string, problems: string[]): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    problems.push(`config file ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : (err as Error).message}`);
    return {};
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    problems.push(`config file ${path}: must hold a JSON object like {"port": 9400, "data-dir": "/var/lib/eddy"}`);
    return {};
  }
  const known = new Set(CONFIG_FILE_KEYS);
  for (const key of Object.keys(parsed)) {
    if (!known.has(key)) problems.push(`config file ${path}: unknown key "${key}" (known: ${[...known].join(', ')})`);
  }
  return parsed as Record<string, unknown>;
}

export function loadConfig(sources: ConfigSources = {}): NodeConfig {
  const flags = sources.flags ?? {};
  const env = sources.env ?? {};
  const problems: string[] = [];
  const filePath = (flags.config as string | undefined) ?? env.EDDY_CONFIG;
  const file = filePath ? readConfigFile(filePath, problems) : {};
  const out: Partial<Record<keyof NodeConfig, unknown>> = {};
  /** Where each value given came from (absent: the default), for messages that name it. */
  const given: Partial<Record<ScalarKey, string>> = {};
  // commander turns --no-mqtt into mqtt: false (and --no-http into http: false)
  const flagValues = { ...flags, ...(flags.mqtt === false ? { mqttPort: 'off' } : {}), ...(flags.http === false ? { httpPort: 'off' } : {}) };
  for (const key of Object.keys(FIELDS) as ScalarKey[]) {
    const field = FIELDS[key] as Field<unknown>;
    const [source, raw] =
      flagValues[key] !== undefined
        ? [`--${field.name}`, flagValues[key]]
        : field.env !== undefined && env[field.env] !== undefined
          ? [field.env, env[field.env]]
          : file[field.name] !== undefined
            ? [`"${field.name}" in ${filePath}`, file[field.name]]
            : [null, undefined];
    if (source === null) {
      out[key] = field.default;
      continue;
    }
    given[key] = source;
    if (key === 'mqttRules') {
      out[key] = raw; // an array of rules; parsed and checked by the MQTT bridge at start-up
      continue;
    }
    if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') {
      problems.push(`${source}: expected text, a number or true/false, got ${raw === null ? 'null' : typeof raw}`);
      continue;
    }
    try {
      out[key] = field.parse(raw);
    } catch (err) {
      problems.push(`${source} = ${JSON.stringify(raw)}: ${(err as Error).message}`);
    }
  }
  out.mqttBridges = bridges(flags, file, filePath, problems);
  samePorts(out, problems);
  brokerTimes(out, problems);
  checkClusterSettings(out, given, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return out as NodeConfig;
}

/** Two listeners on one fixed port would fail at start-up with a less clear message. */
function samePorts(out: Partial<Record<keyof NodeConfig, unknown>>, problems: string[]): void {
  const ports: [string, unknown][] = [['--port', out.port], ['--http-port', out.httpPort], ['--mqtt-port', out.mqttPort]];
  const fixed = ports.filter((p): p is [string, number] => typeof p[1] === 'number' && p[1] !== 0);
  for (let i = 0; i < fixed.length; i++) {
    for (let j = i + 1; j < fixed.length; j++) {
      if (fixed[i]![1] === fixed[j]![1]) problems.push(`${fixed[i]![0]} and ${fixed[j]![0]} are both ${fixed[i]![1]}: each listener needs its own port`);
    }
  }
}

/** A session shorter than two heartbeats would fence a live broker whenever one heartbeat is late. */
function brokerTimes(out: Partial<Record<keyof NodeConfig, unknown>>, problems: string[]): void {
  const { brokerHeartbeatIntervalMs: hb, brokerSessionTimeoutMs: session } = out;
  if (typeof hb !== 'number' || typeof session !== 'number' || session >= 2 * hb) return;
  problems.push(`--broker-session-timeout-ms (${session}) must be at least twice --broker-heartbeat-interval-ms (${hb}): a live broker would be fenced whenever one heartbeat is late`);
}

/** The bridges from flags (one) or the config file (a list), each checked. */
function bridges(
  flags: Partial<Record<string, unknown>>,
  file: Record<string, unknown>,
  filePath: string | undefined,
  problems: string[],
): MqttBridgeConfig[] {
  const raw: { source: string; value: unknown }[] = [];
  if (flags.mqttBridge !== undefined) {
    const topics = (flags.mqttBridgeTopic as string[] | undefined) ?? [];
    raw.push({ source: '--mqtt-bridge', value: { url: flags.mqttBridge, topics: topics.length > 0 ? topics : ['#'] } });
  } else if (file['mqtt-bridges'] !== undefined) {
    const list = file['mqtt-bridges'];
    if (!Array.isArray(list)) problems.push(`"mqtt-bridges" in ${filePath}: must be a list like [{"url": "mqtt://broker:1883", "topics": ["sensors/#"]}]`);
    else list.forEach((value, i) => raw.push({ source: `"mqtt-bridges"[${i}] in ${filePath}`, value }));
  }
  return raw.flatMap(({ source, value }, i) => {
    const v = value as { url?: unknown; topics?: unknown; 'client-id'?: unknown };
    const before = problems.length;
    if (typeof v !== 'object' || v === null) problems.push(`${source}: must be an object with "url" and "topics"`);
    else {
      if (typeof v.url !== 'string' || !/^mqtts?:\/\/[^\s/]+/.test(v.url)) problems.push(`${source}: url must look like mqtt://host:1883, got ${JSON.stringify(v.url)}`);
      if (!Array.isArray(v.topics) || v.topics.length === 0 || !v.topics.every((t) => typeof t === 'string' && t !== '')) {
        problems.push(`${source}: topics must be a non-empty list of MQTT topic filters, e.g. ["sensors/#"]`);
      }
      if (v['client-id'] !== undefined && typeof v['client-id'] !== 'string') problems.push(`${source}: client-id must be text`);
    }
    if (problems.length > before) return [];
    return [{ url: v.url as string, topics: v.topics as string[], clientId: (v['client-id'] as string | undefined) ?? `eddy-${hostname()}-bridge-${i}` }];
  });
}
