/**
 * The node's health as `GET /health` reports it: a pure decision from what the store and the disk
 * guard say, so each branch is tested without breaking a disk.
 *
 * - `failing` (HTTP 503): the log store has failed and refuses every write until restarted. A
 *   supervisor or load balancer should act: restart the node.
 * - `degraded` (HTTP 200): the node works, but new records are refused to keep the disk from
 *   filling. Restarting would not help; freeing space does. Reads and commits go on.
 * - `ok` (HTTP 200).
 */
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
