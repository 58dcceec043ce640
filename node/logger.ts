import { pino, type DestinationStream } from 'pino';

/** The logging surface the node uses; pino's logger satisfies it, and tests can capture it. */
export interface Logger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface LoggerOptions {
  /** One of pino's levels. */
  level?: string;
  /** `json`: one JSON object per line (for journald, log shippers). `pretty`: one readable line per event. */
  format?: 'json' | 'pretty';
  /** Colour the pretty lines (when stderr is a terminal). */
  colorize?: boolean;
}

/**
 * `auto` becomes pretty on a terminal and JSON otherwise: a person watching `eddy start` reads
 * lines, while systemd, Docker and log shippers get JSON they can parse.
 */
export function resolveLogFormat(format: 'auto' | 'json' | 'pretty', stderrIsTTY: boolean): 'json' | 'pretty' {
  return format === 'auto' ? (stderrIsTTY ? 'pretty' : 'json') : format;
}

/**
 * A pino logger writing to stderr, synchronously and in this thread: no transport, no worker
 * thread, so it bundles into the single executable and a forced exit loses no line.
 * pino-pretty is loaded only when pretty is asked for, keeping start-up quick otherwise.
 */
export async function createLogger(options: LoggerOptions = {}): Promise<Logger> {
  const opts = { level: options.level ?? 'info', base: { app: 'eddy' } };
  // Typed as Logger before returning: pino's own type maps level names to log functions, and
  // TypeScript cannot rule out a level named `then`, which an async function may not return.
  let logger: Logger;
  if (options.format !== 'pretty') {
    logger = pino(opts, pino.destination({ fd: 2, sync: true }));
    return logger;
  }
  const { default: pretty } = await import('pino-pretty');
  const stream: DestinationStream = pretty({
    destination: 2,
    sync: true,
    colorize: options.colorize ?? false,
    translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
    ignore: 'pid,hostname,app',
    singleLine: true,
  });
  logger = pino(opts, stream);
  return logger;
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
