/**
 * The node's health as `GET /health` reports it. The verdict is a pure decision from what the
 * store and the disk guard say, so each branch is tested without breaking a disk.
 *
 * - `failing` (HTTP 503): the log store has failed and refuses every write until restarted. A
 *   supervisor or load balancer should act: restart the node.
 * - `degraded` (HTTP 200): the node works, but new records are refused to keep the disk from
 *   filling. Restarting would not help; freeing space does. Reads and commits go on.
 * - `ok` (HTTP 200).
 */
import type { DiskGuard } from './storage/disk-guard.js';
import type { LogStore } from './storage/log-store.js';
import type { TopicManager } from './topics/topic-manager.js';
import { VERSION } from './version.js';

export type HealthStatus = 'ok' | 'degraded' | 'failing';

export interface HealthInputs {
  /** What failed in the log store (its writer thread died or failed for good), or null. */
  storeFailure: string | null;
  /** Why the disk guard refuses new records, or null. */
  diskRefusal: string | null;
}

export interface HealthVerdict {
  status: HealthStatus;
  httpStatus: 200 | 503;
  /** What is wrong and what to do; absent when ok. */
  reason?: string;
}

export function healthVerdict(inputs: HealthInputs): HealthVerdict {
  if (inputs.storeFailure !== null) {
    return {
      status: 'failing',
      httpStatus: 503,
      reason:
        `the log store failed and refuses all writes until eddy is restarted: ${inputs.storeFailure}. ` +
        'Check the disk (dmesg, df -h, the data directory) and the node log, then restart eddy; acknowledged records are kept',
    };
  }
  if (inputs.diskRefusal !== null) {
    return { status: 'degraded', httpStatus: 200, reason: `new records are refused; reads and offset commits go on: ${inputs.diskRefusal}` };
  }
  return { status: 'ok', httpStatus: 200 };
}

export interface HealthReport {
  /** 200 for ok and degraded, 503 for failing. */
  httpStatus: number;
  /** The JSON body: status, reason (unless ok), who and what this node is. */
  body: Record<string, unknown>;
}

/** What GET /health answers for this node now. */
export function healthReport(node: { store: LogStore; diskGuard: DiskGuard; topics: TopicManager; nodeId: number; uptimeMs: number }): HealthReport {
  const verdict = healthVerdict({ storeFailure: node.store.failure?.detail ?? null, diskRefusal: node.diskGuard.recordRefusal });
  const topics = node.topics.list();
  return {
    httpStatus: verdict.httpStatus,
    body: {
      status: verdict.status,
      ...(verdict.reason !== undefined ? { reason: verdict.reason } : {}),
      nodeId: node.nodeId,
      version: VERSION,
      uptimeSeconds: Math.floor(node.uptimeMs / 1000),
      topics: topics.filter((t) => !t.internal).length,
      partitions: topics.reduce((n, t) => n + t.local.length, 0),
      disk: { storeBytes: node.diskGuard.storeBytes(), maxDiskBytes: node.diskGuard.maxDiskBytes, refusingRecords: node.diskGuard.refusingRecords },
    },
  };
}
