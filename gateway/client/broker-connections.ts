/**
 * The client's view of the cluster as connections: the bootstrap list, one lazily opened
 * Connection per broker, and the cached metadata that says which broker leads which partition
 * (Kafka's NetworkClient + Metadata). Every client (Producer, Consumer, Admin) holds one.
 *
 * - Requests for "any broker" (Metadata, FindCoordinator, topic admin) go to a connection that is
 *   up, else to the known brokers and the bootstrap addresses in turn: a dead address is skipped
 *   as soon as its connect attempt fails, not after a request timeout.
 * - Metadata is refreshed on demand (a NOT_LEADER_OR_FOLLOWER, a lost leader), at most once per
 *   `refreshBackoffMs`, and when older than `metadataMaxAgeMs` (Kafka's metadata.max.age.ms).
 * - A one-broker cluster is reached through the address that answered, not its advertised one:
 *   a proxy or NAT in front of a lone node keeps working, as it did before clusters.
 */
import { Apis, type ApiSpec } from '../../protocol/apis/index.js';
import { EddyError } from '../../protocol/errors.js';
import type { Infer, StructType } from '../../protocol/wire/schema.js';
import { backoffDelay, DEFAULT_RECONNECT_BACKOFF } from './backoff.js';
import { bootstrapUrls, hostPort, type ServerList } from './bootstrap.js';
import { ClientClosedError } from './client-errors.js';
import { ClusterMetadata, NO_LEADER } from './cluster-metadata.js';
import { ConnectWaitTimeout, Connection, type ConnectionOptions, type RequestOptions } from './connection.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyStruct = StructType<any>;

/** Anything that sends a request and resolves with its answer: a Connection, or a router in front of several. */
export interface Requester {
  request<Req extends AnyStruct, Res extends AnyStruct>(api: ApiSpec<Req, Res>, body: Infer<Req>, options?: RequestOptions): Promise<Infer<Res>>;
}

export interface BrokerConnectionsOptions {
  servers: ServerList;
  /** For every connection this opens. */
  connection: Omit<ConnectionOptions, 'url'>;
  /** Metadata older than this is refreshed before it is used. Default 5 min. */
  metadataMaxAgeMs?: number;
  /** Least time between two metadata refreshes. Default 100 ms. */
  refreshBackoffMs?: number;
  now?: () => number;
}

export class BrokerConnections implements Requester {
  readonly metadata = new ClusterMetadata();
  /** The bootstrap list, deduplicated, in the order given. */
  readonly bootstrap: readonly string[];
  readonly #o: BrokerConnectionsOptions;
  readonly #now: () => number;
  readonly #requestTimeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #pool = new Map<string, Connection>();
  /** Where "any broker" requests went last time it worked: tried first next time. */
  #preferred: string;
  /** The URL that answered a Metadata naming a single broker (see the module comment). */
  #soleVia: string | undefined;
  #stale = true;
  #lastRefreshAt = -Infinity;
  #refreshing: { topics: ReadonlySet<string>; done: Promise<void> } | undefined;
  #closed = false;

  constructor(options: BrokerConnectionsOptions) {
    this.bootstrap = bootstrapUrls(options.servers);
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#requestTimeoutMs = options.connection.requestTimeoutMs ?? 30_000;
    this.#connectTimeoutMs = options.connection.connectTimeoutMs ?? 10_000;
    this.#preferred = this.bootstrap[0]!;
  }

  /**
   * Sends to any reachable broker. Answers to Metadata update the cached metadata. A request lost
   * after it was written is not resent (the caller decides; see Connection).
   */
  async request<Req extends AnyStruct, Res extends AnyStruct>(api: ApiSpec<Req, Res>, body: Infer<Req>, options: RequestOptions = {}): Promise<Infer<Res>> {
    const deadline = this.#now() + (options.timeoutMs ?? this.#requestTimeoutMs);
    const conn = await this.anyBroker(deadline, api.name);
    const res = await conn.request(api, body, { ...options, timeoutMs: Math.max(1, deadline - this.#now()) });
    if (api.key === Apis.Metadata.key) this.#learn(res as Infer<typeof Apis.Metadata.newest.response>, conn.url);
    return res;
  }

  /** A connection that is up: the last one that worked, else each known broker and bootstrap address in turn until `deadline`. */
  async anyBroker(deadline: number, purpose = 'a request'): Promise<Connection> {
    const started = this.#now();
    let lastError: unknown;
    for (let round = 0; ; round++) {
      for (const url of this.#candidates()) {
        if (this.#closed) throw new ClientClosedError('client');
        const left = deadline - this.#now();
        if (left <= 0) break;
        const conn = this.connection(url);
        try {
          await conn.ready(Math.min(this.#connectTimeoutMs, left));
          this.#preferred = url;
          return conn;
        } catch (err) {
          // An attempt cut short by the deadline says less than the refusal before it: keep that one.
          if (lastError === undefined || !(err instanceof ConnectWaitTimeout)) lastError = err;
          // A dead address that leads nothing is not kept reconnecting in the background.
          if (!this.#isBrokerUrl(url)) this.#drop(url);
        }
      }
      const left = deadline - this.#now();
      if (left <= 0) {
        const tried = this.#candidates();
        const why = lastError instanceof EddyError ? lastError.detail : lastError instanceof Error ? lastError.message : '';
        throw new EddyError(
          'REQUEST_TIMED_OUT',
          `no connection to ${tried.length === 1 ? tried[0] : `any of ${tried.join(', ')}`} within ${deadline - started} ms to send ${purpose}` +
            (why ? ` (last attempt: ${why})` : '') +
            `; is an eddy node running and reachable there?`,
        );
      }
      await sleep(Math.min(left, backoffDelay(round, this.#o.connection.reconnectBackoff ?? DEFAULT_RECONNECT_BACKOFF)));
    }
  }

  /** The connection to `url`, opened on first use; one per address. */
  connection(url: string): Connection {
    if (this.#closed) throw new ClientClosedError('client');
    let conn = this.#pool.get(url);
    if (!conn) {
      conn = new Connection({ ...this.#o.connection, url });
      this.#pool.set(url, conn);
    }
    return conn;
  }

  /** The URL this client uses for node `nodeId` (or for `advertised`, a URL FindCoordinator gave), or undefined if unknown. */
  nodeUrl(nodeId: number, advertised?: string): string | undefined {
    const brokers = this.metadata.brokers;
    if (brokers.size === 1 && this.#soleVia && brokers.has(nodeId)) return this.#soleVia;
    const url = brokers.get(nodeId) ?? advertised;
    if (url === undefined) return undefined;
    // The bootstrap entry for the same address keeps its path and spelling.
    return this.bootstrap.find((b) => hostPort(b) === hostPort(url)) ?? url;
  }

  /**
   * The connection to the leader of a partition, refreshing metadata first when it is stale or
   * does not know the leader. Rejects with a retriable LEADER_NOT_AVAILABLE (naming the partition
   * and the node) when there is no leader or its node cannot be reached, after marking the
   * metadata stale so that the next attempt asks again.
   */
  async leaderFor(topic: string, partition: number, timeoutMs = this.#requestTimeoutMs): Promise<{ nodeId: number; conn: Connection }> {
    const deadline = this.#now() + timeoutMs;
    let l = this.metadata.leader(topic, partition);
    if (!l || l.leader === NO_LEADER || this.#needsRefresh()) {
      await this.refresh([topic], timeoutMs);
      l = this.metadata.leader(topic, partition);
    }
    if (!l) {
      const count = this.metadata.partitionCount(topic);
      throw new EddyError('UNKNOWN_TOPIC_OR_PARTITION', count === undefined ? `metadata does not list topic ${topic}` : `partition ${partition} does not exist: topic ${topic} has ${count} partitions`);
    }
    if (l.leader === NO_LEADER) {
      this.invalidate();
      throw new EddyError('LEADER_NOT_AVAILABLE', `${topic}-${partition} has no leader (leader -1, leader epoch ${l.leaderEpoch}, in metadata from ${this.#preferred})`);
    }
    const url = this.nodeUrl(l.leader);
    if (url === undefined) {
      this.invalidate();
      throw new EddyError('LEADER_NOT_AVAILABLE', `${topic}-${partition}: its leader, node ${l.leader}, is not among the brokers in metadata`);
    }
    const conn = this.connection(url);
    try {
      await conn.ready(Math.max(1, Math.min(this.#connectTimeoutMs, deadline - this.#now())));
    } catch (err) {
      if (err instanceof ClientClosedError) throw err;
      this.invalidate();
      throw new EddyError('LEADER_NOT_AVAILABLE', `${topic}-${partition}: its leader, node ${l.leader} at ${url}, is unreachable (${(err as Error).message})`, { cause: err });
    }
    return { nodeId: l.leader, conn };
  }

  /** The leader's connection if metadata is younger than its max age, knows it, and it is up: the hot path, without a promise. */
  leaderNow(topic: string, partition: number): Connection | undefined {
    const l = this.metadata.leader(topic, partition);
    if (!l || l.leader === NO_LEADER || this.#tooOld()) return undefined;
    // Stale (some leader moved or was lost): refresh in the background and keep using what is
    // known meanwhile, so that one lost leader does not send every partition down the slow path.
    if (this.#stale) void this.refresh().catch(() => {});
    const url = this.nodeUrl(l.leader);
    const conn = url === undefined ? undefined : this.#pool.get(url);
    return conn?.isOpen ? conn : undefined;
  }

  /** A connection to every broker in metadata, by node id (loaded first if need be). */
  async allBrokers(timeoutMs = this.#requestTimeoutMs): Promise<{ nodeId: number; conn: Connection }[]> {
    if (this.#needsRefresh() || this.metadata.brokers.size === 0) await this.refresh([], timeoutMs);
    return [...this.metadata.brokers.keys()].map((nodeId) => ({ nodeId, conn: this.connection(this.nodeUrl(nodeId)!) }));
  }

  /** Marks the metadata stale: the next leader lookup refreshes it (no sooner than the refresh backoff). */
  invalidate(): void {
    this.#stale = true;
  }

  /**
   * Asks for the metadata of `topics` and of every topic already known, at most once per
   * refresh backoff; concurrent callers share one request.
   */
  async refresh(topics: readonly string[] = [], timeoutMs = this.#requestTimeoutMs): Promise<void> {
    const shared = this.#refreshing;
    if (shared && topics.every((t) => shared.topics.has(t))) return shared.done;
    if (shared) await shared.done.catch(() => {}); // then ask again, for our topics too
    if (this.#refreshing) return this.refresh(topics, timeoutMs);
    const names = new Set([...this.metadata.topics, ...topics]);
    const done = (async () => {
      const wait = this.#lastRefreshAt + (this.#o.refreshBackoffMs ?? 100) - this.#now();
      if (wait > 0) await sleep(wait);
      this.#lastRefreshAt = this.#now();
      await this.request(Apis.Metadata, { topics: [...names] }, { timeoutMs });
    })().finally(() => (this.#refreshing = undefined));
    this.#refreshing = { topics: names, done };
    return done;
  }

  /** Closes every connection. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    const conns = [...this.#pool.values()];
    this.#pool.clear();
    await Promise.all(conns.map((c) => c.close()));
  }

  #learn(res: Infer<typeof Apis.Metadata.newest.response>, via: string): void {
    this.metadata.update(res, via, this.#now());
    this.#soleVia = res.brokers.length === 1 ? via : undefined;
    this.#stale = false;
  }

  #needsRefresh(): boolean {
    return this.#stale || this.#tooOld();
  }

  #tooOld(): boolean {
    return this.#now() - this.metadata.updatedAt >= (this.#o.metadataMaxAgeMs ?? 300_000);
  }

  /** Where to look for any broker: the last that worked, the known brokers, then the bootstrap list. */
  #candidates(): string[] {
    const known = [...this.metadata.brokers.keys()].map((id) => this.nodeUrl(id)!);
    const open = [...this.#pool.values()].filter((c) => c.isOpen).map((c) => c.url);
    return [...new Set([...open, this.#preferred, ...known, ...this.bootstrap])];
  }

  #isBrokerUrl(url: string): boolean {
    return [...this.metadata.brokers.keys()].some((id) => this.nodeUrl(id) === url);
  }

  #drop(url: string): void {
    const conn = this.#pool.get(url);
    if (!conn) return;
    this.#pool.delete(url);
    void conn.close();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
