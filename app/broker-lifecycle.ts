/**
 * The broker's half of the lifecycle (Kafka's BrokerLifecycleManager, KIP-631): a node that is
 * not the active controller registers with it over the peer link, then heartbeats every
 * `heartbeatIntervalMs` with its broker epoch and how far it has applied the metadata log; the
 * controller unfences it once caught up. A controller change is followed (requests go to
 * whoever leads now); a lost registration (STALE_BROKER_EPOCH, BROKER_ID_NOT_REGISTERED, or the
 * image no longer showing it) is made again. On the controller itself BrokerController does all
 * of this without the wire. Controlled shutdown asks to be fenced and waits for it.
 */
import type { PeerLink } from '../gateway/peer-link.js';
import { Apis } from '../protocol/apis/index.js';
import type { BrokerHeartbeatResponse } from '../protocol/apis/broker-heartbeat.js';
import type { BrokerRegistrationResponse } from '../protocol/apis/broker-registration.js';
import { errorNameForCode, isEddyError, type ErrorName } from '../protocol/errors.js';
import { nextBrokerRequest, REGISTER_AGAIN } from '../node/controller/broker-heartbeat-plan.js';
import type { QuorumDriver } from '../node/controller/quorum-driver.js';
import type { Logger } from '../node/logger.js';
import type { BrokerController } from './broker-controller.js';

/**
 * Kafka's broker.heartbeat.interval.ms is 2000 ms against a 9000 ms session; 500 ms keeps the
 * same ratio's safety (18 heartbeats per session, so a few lost ones never fence a live broker)
 * while a restarted broker is unfenced within about half a second of catching up, and costs one
 * small request a second per two nodes.
 */
export const DEFAULT_BROKER_HEARTBEAT_INTERVAL_MS = 500;
/** How long a controlled shutdown waits for its fencing to be committed before going on. */
export const CONTROLLED_SHUTDOWN_TIMEOUT_MS = 2_000;

export interface BrokerLifecycleOptions {
  driver: Pick<QuorumDriver, 'nodeId' | 'role' | 'leaderId' | 'image' | 'onCommitted'>;
  self: { nodeId: number; incarnationId: string; url: string; clusterId: string };
  links: { get(nodeId: number): PeerLink | undefined };
  /** This node's controller half: it decides for the node while it is the active controller. */
  controller: BrokerController;
  logger: Logger;
  heartbeatIntervalMs?: number;
}

export class BrokerLifecycle {
  /** Resolves once this process's registration is committed and unfenced in the image; never rejects. */
  readonly registered: Promise<void>;
  readonly #o: BrokerLifecycleOptions;
  readonly #intervalMs: number;
  readonly #unsubscribe: () => void;
  #markRegistered!: () => void;
  #isRegistered = false;
  #brokerEpoch: number | null = null;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #wantFence = false;
  /** The last error logged, so a retried failure is reported once, not every interval. */
  #lastProblem: string | null = null;

  constructor(opts: BrokerLifecycleOptions) {
    this.#o = opts;
    this.#intervalMs = opts.heartbeatIntervalMs ?? DEFAULT_BROKER_HEARTBEAT_INTERVAL_MS;
    this.registered = new Promise<void>((resolve) => (this.#markRegistered = resolve));
    this.#unsubscribe = opts.driver.onCommitted(() => this.#checkRegistered());
    this.#checkRegistered();
    this.#schedule(0);
  }

  /** Resolves true once registered (see `registered`), false after `timeoutMs`. */
  async waitRegistered(timeoutMs: number): Promise<boolean> {
    return (await withTimeout(this.registered.then(() => true), timeoutMs)) ?? false;
  }

  /** The broker epoch this process was given, or null before its registration (or once it is lost). */
  get brokerEpoch(): number | null {
    return this.#brokerEpoch;
  }

  /**
   * Controlled shutdown: stop heartbeating and ask to be fenced (on the controller: propose it),
   * then wait until the fencing is in this node's image, at most `timeoutMs`. Resolves with
   * whether it was; never rejects.
   */
  async controlledShutdown(timeoutMs = CONTROLLED_SHUTDOWN_TIMEOUT_MS): Promise<boolean> {
    this.#stop();
    this.#wantFence = true;
    const { driver, self, logger } = this.#o;
    const mine = driver.image.brokers.get(self.nodeId);
    if (!mine || mine.incarnationId !== self.incarnationId || mine.fenced) return true;
    logger.info({ nodeId: self.nodeId }, `node ${self.nodeId} is shutting down: asking the controller to fence it so its partitions move first`);
    const deadline = Date.now() + timeoutMs;
    let ok = false;
    try {
      while (!ok && Date.now() < deadline) {
        if (driver.role === 'leader') {
          await withTimeout(this.#o.controller.fenceSelf(), deadline - Date.now());
          ok = this.#fencedInImage();
          continue;
        }
        const next = nextBrokerRequest(this.#planInput());
        if (next.kind === 'heartbeat') {
          const r = await this.#heartbeat(next.to, next.brokerEpoch, next.currentMetadataOffset, Math.max(1, deadline - Date.now()));
          if (r?.isFenced) ok = await this.#waitFencedInImage(deadline);
          else if (r === null && this.#brokerEpoch === null) break; // registration gone: nothing of ours to fence
        }
        if (!ok) await sleep(Math.min(50, Math.max(0, deadline - Date.now())));
      }
    } catch (err) {
      logger.warn({ err, nodeId: self.nodeId }, `node ${self.nodeId} could not be fenced before shutting down: ${(err as Error).message}`);
    }
    if (ok) logger.info({ nodeId: self.nodeId }, `node ${self.nodeId} is fenced: its partitions have moved to other brokers or have no leader; shutting down`);
    else logger.warn({ nodeId: self.nodeId, timeoutMs }, `node ${self.nodeId} was not fenced within ${timeoutMs} ms; shutting down anyway (the controller fences it when its session expires)`);
    return ok;
  }

  close(): void {
    this.#stop();
    this.#unsubscribe();
  }

  #stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#tick().finally(() => this.#schedule(this.#intervalMs)), ms);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    const next = nextBrokerRequest(this.#planInput());
    if (next.kind === 'register') await this.#register(next.to);
    else if (next.kind === 'heartbeat') await this.#heartbeat(next.to, next.brokerEpoch, next.currentMetadataOffset, this.#requestTimeoutMs());
  }

  #planInput() {
    const { driver, self } = this.#o;
    return { nodeId: self.nodeId, incarnationId: self.incarnationId, leaderId: driver.leaderId, brokerEpoch: this.#brokerEpoch, image: driver.image, wantFence: this.#wantFence };
  }

  /** A lost heartbeat or two must not stall the next ones for long. */
  #requestTimeoutMs(): number {
    return Math.max(1_000, 2 * this.#intervalMs);
  }

  async #register(to: number): Promise<void> {
    const { self } = this.#o;
    const url = new URL(self.url);
    const body = {
      brokerId: self.nodeId,
      clusterId: self.clusterId,
      incarnationId: self.incarnationId,
      listeners: [{ name: 'client', host: url.hostname, port: Number(url.port) }],
      features: [],
      rack: null,
      previousBrokerEpoch: -1,
    };
    const r = (await this.#send(to, Apis.BrokerRegistration.key, body)) as BrokerRegistrationResponse | null;
    if (!r) return;
    if (r.errorCode !== 0) return this.#problem(to, errorNameForCode(r.errorCode), r.errorMessage, 'registration');
    this.#brokerEpoch = Number(r.brokerEpoch);
    this.#lastProblem = null;
    this.#o.logger.debug({ nodeId: self.nodeId, controller: to, brokerEpoch: this.#brokerEpoch }, `node ${self.nodeId} registered with the controller, node ${to} (broker epoch ${this.#brokerEpoch})`);
  }

  /** Null when nothing usable came back (link down, error answer). */
  async #heartbeat(to: number, brokerEpoch: number, currentMetadataOffset: number, timeoutMs: number): Promise<BrokerHeartbeatResponse | null> {
    const body = { brokerId: this.#o.self.nodeId, brokerEpoch, currentMetadataOffset, wantFence: this.#wantFence, wantShutDown: false };
    const r = (await this.#send(to, Apis.BrokerHeartbeat.key, body, timeoutMs)) as BrokerHeartbeatResponse | null;
    if (!r) return null;
    if (r.errorCode !== 0) {
      const name = errorNameForCode(r.errorCode);
      // Our registration is gone (a controller change lost it, or we were replaced): register again.
      if (REGISTER_AGAIN.has(name) && this.#brokerEpoch === brokerEpoch) this.#brokerEpoch = null;
      this.#problem(to, name, r.errorMessage, 'heartbeat');
      return null;
    }
    this.#lastProblem = null;
    return r;
  }

  async #send(to: number, apiKey: number, body: unknown, timeoutMs = this.#requestTimeoutMs()): Promise<unknown> {
    const link = this.#o.links.get(to);
    if (!link) {
      this.#problem(to, 'NOT_CONTROLLER', `no peer link to node ${to}`, 'request');
      return null;
    }
    try {
      return await link.request(apiKey, 0, body, { timeoutMs });
    } catch (err) {
      if (isEddyError(err)) this.#problem(to, err.errorName, err.detail, 'request');
      else this.#problem(to, 'UNKNOWN_SERVER_ERROR', (err as Error).message, 'request');
      return null;
    }
  }

  /** Retried on the next interval; logged once per distinct problem (a controller election, a link being down). */
  #problem(to: number, name: ErrorName, detail: string | null, what: string): void {
    const key = `${to}:${name}`;
    if (key === this.#lastProblem) return;
    this.#lastProblem = key;
    const { nodeId } = this.#o.self;
    // These need the operator (another process with this id, a data dir of another cluster) or explain a wait of up to a session timeout.
    const level = name === 'DUPLICATE_BROKER_REGISTRATION' || name === 'INCONSISTENT_CLUSTER_ID' ? 'warn' : 'debug';
    const hint = name === 'DUPLICATE_BROKER_REGISTRATION' ? ' (an earlier process of this node is still in its session; the controller fences it when that expires)' : '';
    this.#o.logger[level]({ nodeId, controller: to, error: name }, `node ${nodeId}'s broker ${what} to the controller, node ${to}, failed: ${name}${detail ? `: ${detail}` : ''}${hint}; retrying`);
  }

  #fencedInImage(): boolean {
    const b = this.#o.driver.image.brokers.get(this.#o.self.nodeId);
    return !b || b.incarnationId !== this.#o.self.incarnationId || b.fenced;
  }

  async #waitFencedInImage(deadline: number): Promise<boolean> {
    while (!this.#fencedInImage()) {
      if (Date.now() >= deadline) return false;
      await sleep(10);
    }
    return true;
  }

  #checkRegistered(): void {
    if (this.#isRegistered) return;
    const { driver, self, logger } = this.#o;
    const mine = driver.image.brokers.get(self.nodeId);
    if (!mine || mine.incarnationId !== self.incarnationId || mine.fenced || driver.image.clusterId === null) return;
    this.#isRegistered = true;
    logger.debug({ nodeId: self.nodeId, brokerEpoch: mine.brokerEpoch }, `node ${self.nodeId} is registered and unfenced in the metadata log (broker epoch ${mine.brokerEpoch})`);
    this.#markRegistered();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), Math.max(0, ms))))]).finally(() => clearTimeout(timer));
}
