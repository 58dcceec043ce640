/**
 * Requests for one consumer group, sent to the node that coordinates it (Kafka's
 * FindCoordinator, key 10, asked of any broker). NOT_COORDINATOR or COORDINATOR_NOT_AVAILABLE
 * — as the header error or any error code in the answer — or a coordinator that cannot be
 * reached (or lost) sends the client back to FindCoordinator, after a backoff, within the request's
 * timeout.
 */
import { Apis, type ApiSpec } from '../../protocol/apis/index.js';
import { CoordinatorKeyType } from '../../protocol/apis/find-coordinator.js';
import { ERRORS, EddyError, isEddyError } from '../../protocol/errors.js';
import type { Infer, StructType } from '../../protocol/wire/schema.js';
import { backoffDelay } from './backoff.js';
import { brokerUrl } from './bootstrap.js';
import type { BrokerConnections, Requester } from './broker-connections.js';
import { carriesErrorCode, ClientClosedError, serverError } from './client-errors.js';
import type { Connection, RequestOptions } from './connection.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyStruct = StructType<any>;

const MOVED = new Set<number>([ERRORS.NOT_COORDINATOR.code, ERRORS.COORDINATOR_NOT_AVAILABLE.code]);
const RETRY = { initialMs: 100, maxMs: 1000, jitter: 0.2 };

/** Whether an answer says, anywhere, that this node does not coordinate the group (now). */
export function saysCoordinatorMoved(value: unknown): boolean {
  return carriesErrorCode(value, MOVED);
}

export class GroupCoordinator implements Requester {
  #current: { nodeId: number; conn: Connection } | undefined;
  #finding: Promise<{ nodeId: number; conn: Connection }> | undefined;

  constructor(
    private readonly brokers: BrokerConnections,
    readonly groupId: string,
    private readonly requestTimeoutMs: number,
  ) {}

  /** The coordinator's node id, once found. */
  get nodeId(): number | undefined {
    return this.#current?.nodeId;
  }

  async request<Req extends AnyStruct, Res extends AnyStruct>(api: ApiSpec<Req, Res>, body: Infer<Req>, options: RequestOptions = {}): Promise<Infer<Res>> {
    const deadline = Date.now() + (options.timeoutMs ?? this.requestTimeoutMs);
    for (let attempt = 0; ; attempt++) {
      let conn: Connection;
      let moved: unknown;
      try {
        conn = (await this.#find(deadline)).conn;
        const res = await conn.request(api, body, { ...options, timeoutMs: Math.max(1, deadline - Date.now()) });
        if (!saysCoordinatorMoved(res)) return res;
        moved = res;
      } catch (err) {
        if (err instanceof ClientClosedError) throw err;
        // Moved, or the coordinator's connection failed or was lost: ask FindCoordinator again.
        // Group requests are safe to resend (a heartbeat, a commit of the same offsets).
        if (!(isEddyError(err, 'NOT_COORDINATOR') || isEddyError(err, 'COORDINATOR_NOT_AVAILABLE') || isEddyError(err, 'REQUEST_TIMED_OUT'))) throw err;
        moved = err;
      }
      this.#current = undefined;
      const pause = backoffDelay(attempt, RETRY);
      if (Date.now() + pause >= deadline) {
        if (moved instanceof Error) throw moved;
        return moved as Infer<Res>; // the answer as it came: the caller reports its errors
      }
      await new Promise((r) => setTimeout(r, pause));
    }
  }

  /** Forgets the coordinator: the next request asks FindCoordinator again. */
  forget(): void {
    this.#current = undefined;
  }

  #find(deadline: number): Promise<{ nodeId: number; conn: Connection }> {
    if (this.#current) return Promise.resolve(this.#current);
    this.#finding ??= (async () => {
      if (this.brokers.metadata.brokers.size === 0) await this.brokers.refresh([], Math.max(1, deadline - Date.now()));
      const res = await this.brokers.request(Apis.FindCoordinator, { key: this.groupId, keyType: CoordinatorKeyType.GROUP }, { timeoutMs: Math.max(1, deadline - Date.now()) });
      if (res.errorCode !== 0) throw serverError(res.errorCode, res.errorMessage, `find the coordinator of group ${this.groupId}`);
      const url = this.brokers.nodeUrl(res.nodeId, brokerUrl(res.host, res.port, this.brokers.bootstrap[0]!))!;
      const conn = this.brokers.connection(url);
      try {
        await conn.ready(Math.max(1, deadline - Date.now()));
      } catch (err) {
        if (err instanceof ClientClosedError) throw err;
        throw new EddyError('COORDINATOR_NOT_AVAILABLE', `group ${this.groupId}: its coordinator, node ${res.nodeId} at ${url}, is unreachable (${(err as Error).message})`, { cause: err });
      }
      this.#current = { nodeId: res.nodeId, conn };
      return this.#current;
    })().finally(() => (this.#finding = undefined));
    return this.#finding;
  }
}
