import { pino } from 'pino';

/** The logging surface the node uses; pino's logger satisfies it, and tests can capture it. */
export interface Logger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** JSON lines on stderr (pino). `level` is one of pino's levels. */
export function createLogger(level = 'info'): Logger {
  return pino({ level, base: { app: 'eddy' } }, pino.destination(2));
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
