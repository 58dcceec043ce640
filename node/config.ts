/**
 * The node's configuration: one typed object, built once at start-up from flags, then EDDY_*
 * environment variables, then defaults, and validated with one clear message per bad field.
 * Nothing else in the node reads process.env.
 */
import { parseSyncPolicy, type SyncPolicy } from './storage/sync-policy.js';
import { isEddyError } from './protocol/errors.js';

export interface NodeConfig {
  /** Directory holding the node's data (the log store file `log.db` and its WAL). */
  dataDir: string;
  /** When appends reach the disk: `always` (default) or `interval:<ms>`. */
  sync: SyncPolicy;
  logLevel: LogLevel;
}

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

interface Field<T> {
  flag: string;
  env: string;
  default: string;
  parse(raw: string): T;
}

const FIELDS: { [K in keyof NodeConfig]: Field<NodeConfig[K]> } = {
  dataDir: {
    flag: '--data-dir',
    env: 'EDDY_DATA_DIR',
    default: './eddy-data',
    parse(raw) {
      if (raw.trim() === '') throw new Error('must be a directory path, not empty');
      return raw;
    },
  },
  sync: {
    flag: '--sync',
    env: 'EDDY_SYNC',
    default: 'always',
    parse(raw) {
      try {
        return parseSyncPolicy(raw);
      } catch (err) {
        throw new Error(isEddyError(err) ? err.detail : String(err));
      }
    },
  },
  logLevel: {
    flag: '--log-level',
    env: 'EDDY_LOG_LEVEL',
    default: 'info',
    parse(raw) {
      if (!(LOG_LEVELS as readonly string[]).includes(raw)) throw new Error(`must be one of ${LOG_LEVELS.join(', ')}`);
      return raw as LogLevel;
    },
  },
};

/** Every problem found, so an operator fixes them all in one go. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Builds the config. `flags` holds values given on the command line (undefined when absent),
 * keyed by field name; `env` is the environment to read EDDY_* variables from.
 */
export function loadConfig(flags: Partial<Record<keyof NodeConfig, unknown>>, env: Record<string, string | undefined>): NodeConfig {
  const problems: string[] = [];
  const out: Partial<NodeConfig> = {};
  for (const key of Object.keys(FIELDS) as (keyof NodeConfig)[]) {
    const field = FIELDS[key] as Field<unknown>;
    const fromFlag = flags[key];
    const source = fromFlag !== undefined ? field.flag : env[field.env] !== undefined ? field.env : 'default';
    const raw = fromFlag !== undefined ? fromFlag : (env[field.env] ?? field.default);
    if (typeof raw !== 'string') {
      problems.push(`${source} for ${field.flag}: expected text, got ${typeof raw}`);
      continue;
    }
    try {
      (out as Record<string, unknown>)[key] = field.parse(raw);
    } catch (err) {
      problems.push(`${source} = "${raw}": ${(err as Error).message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out as NodeConfig;
}
