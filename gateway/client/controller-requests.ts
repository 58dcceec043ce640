/**
 * Topic admin requests (CreateTopics, DeleteTopics, CreatePartitions, IncrementalAlterConfigs):
 * any broker takes them and forwards them to the active controller. While the metadata quorum
 * elects a leader, the answer is NOT_CONTROLLER or REQUEST_TIMED_OUT: retry with a short backoff,
 * within the request timeout, as Kafka's AdminClient does.
 *
 * A retry after REQUEST_TIMED_OUT may find that the first attempt was applied after all (e.g.
 * TOPIC_ALREADY_EXISTS): Kafka's admin has the same hazard; the caller sees that answer.
 */
import type { ApiSpec } from '../../protocol/apis/index.js';
import { ERRORS, isEddyError } from '../../protocol/errors.js';
import type { Infer, StructType } from '../../protocol/wire/schema.js';
import { backoffDelay } from './backoff.js';
import type { Requester } from './broker-connections.js';
import { carriesErrorCode } from './client-errors.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyStruct = StructType<any>;

const CONTROLLER_BUSY = new Set<number>([ERRORS.NOT_CONTROLLER.code, ERRORS.REQUEST_TIMED_OUT.code]);
const RETRY = { initialMs: 50, maxMs: 500, jitter: 0.2 };

export async function controllerRequest<Req extends AnyStruct, Res extends AnyStruct>(
  brokers: Requester,
  api: ApiSpec<Req, Res>,
  body: Infer<Req>,
  timeoutMs: number,
): Promise<Infer<Res>> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    const left = deadline - Date.now();
    let res: Infer<Res> | undefined;
    try {
      res = await brokers.request(api, body, { timeoutMs: Math.max(1, left) });
      if (!carriesErrorCode(res, CONTROLLER_BUSY)) return res;
    } catch (err) {
      if (!(isEddyError(err, 'NOT_CONTROLLER') || isEddyError(err, 'REQUEST_TIMED_OUT'))) throw err;
      const pause = backoffDelay(attempt, RETRY);
      if (Date.now() + pause >= deadline) throw err;
      await new Promise((r) => setTimeout(r, pause));
      continue;
    }
    const pause = backoffDelay(attempt, RETRY);
    if (Date.now() + pause >= deadline) return res; // the caller reports the per-topic errors
    await new Promise((r) => setTimeout(r, pause));
  }
}
