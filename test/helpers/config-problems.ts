/** What loadConfig refused: the problems of the ConfigError `fn` throws (fails if it throws none, or another error). */
import { expect } from 'vitest';
import { ConfigError } from '../../node/config.js';

export function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected ConfigError');
}
