/**
 * Consumer group limits and defaults, and the validation of what a member asks for. Each bad
 * value gets its Kafka error code and a message naming the allowed range.
 */
import { EddyError } from '../../protocol/errors.js';
import { assignorByName, type Assignor } from './assignors.js';

export const DEFAULT_ASSIGNOR = 'sticky';
export const DEFAULT_SESSION_TIMEOUT_MS = 45_000;
export const MIN_SESSION_TIMEOUT_MS = 500;
export const MAX_SESSION_TIMEOUT_MS = 30 * 60_000;
export const DEFAULT_REBALANCE_TIMEOUT_MS = 300_000;
/** Longest the coordinator holds a heartbeat before answering (it answers at once on a change). */
export const MAX_HEARTBEAT_INTERVAL_MS = 5_000;
export const MAX_GROUP_MEMBERS = 1000;
/** memberEpoch values with a meaning, as in KIP-848. */
export const JOIN_EPOCH = 0;
export const LEAVE_EPOCH = -1;

/** How long the coordinator may hold a member's heartbeat: a third of its session, at most 5 s. */
export function heartbeatIntervalFor(sessionTimeoutMs: number): number {
  return Math.max(100, Math.min(MAX_HEARTBEAT_INTERVAL_MS, Math.floor(sessionTimeoutMs / 3)));
}

/** Kafka's group id rule, with a length cap: 1-255 characters. */
export function validateGroupId(groupId: string): void {
  if (groupId.length === 0) throw new EddyError('INVALID_GROUP_ID', 'group id is empty');
  if (groupId.length > 255) throw new EddyError('INVALID_GROUP_ID', `group id is ${groupId.length} characters; the limit is 255`);
}

export function checkSessionTimeout(ms: number): number | undefined {
  if (ms === -1) return undefined;
  if (!Number.isInteger(ms) || ms < MIN_SESSION_TIMEOUT_MS || ms > MAX_SESSION_TIMEOUT_MS) {
    throw new EddyError('INVALID_SESSION_TIMEOUT', `session timeout ${ms} ms is outside ${MIN_SESSION_TIMEOUT_MS}-${MAX_SESSION_TIMEOUT_MS} ms`);
  }
  return ms;
}

export function assignorByNameOrThrow(name: string): Assignor {
  try {
    return assignorByName(name);
  } catch (err) {
    throw new EddyError('UNSUPPORTED_ASSIGNOR', (err as Error).message);
  }
}

/** A subscription regex matches whole topic names (Kafka's Pattern.matches); "" clears it. */
export function compileRegex(source: string): RegExp | null {
  if (source === '') return null;
  try {
    return new RegExp(`^(?:${source})$`, 'u');
  } catch (err) {
    throw new EddyError('INVALID_REGULAR_EXPRESSION', `"${source}": ${(err as Error).message}`);
  }
}
