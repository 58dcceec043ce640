/**
 * The active controller's half of the broker lifecycle (KIP-631): it answers BrokerRegistration
 * and BrokerHeartbeat from the other nodes, registers and keeps alive this node itself (it sends
 * itself nothing), and fences brokers whose session expired. Every decision goes through the
 * ActiveController's queue, so it is taken on the image holding all earlier decisions.
 */
import type { BrokerHeartbeatRequest, BrokerHeartbeatResponse } from '../protocol/apis/broker-heartbeat.js';
import type { BrokerRegistrationRequest, BrokerRegistrationResponse } from '../protocol/apis/broker-registration.js';
import { EddyError, isEddyError } from '../protocol/errors.js';
import type { ActiveController } from '../node/controller/active-controller.js';
import { BrokerSessions, isCaughtUp } from '../node/controller/broker-sessions.js';
import { fenceBroker, heartbeat, registerBroker, type MetadataImage, type MetadataRecord } from '../node/controller/metadata/index.js';
import type { QuorumDriver } from '../node/controller/quorum-driver.js';
import type { Logger } from '../node/logger.js';
import { selfRegistrationRecords } from './metadata-quorum.js';

/** Kafka's broker.session.timeout.ms default. */
export const DEFAULT_BROKER_SESSION_TIMEOUT_MS = 9_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** How often the controller looks for expired sessions: a broker is fenced at most this late. */
const SESSION_CHECK_INTERVAL_MS = 250;

export interface BrokerControllerOptions {
  driver: Pick<QuorumDriver, 'nodeId' | 'role' | 'epoch' | 'image' | 'logEndOffset' | 'onCommitted'>;
  controller: ActiveController;
  self: { nodeId: number; incarnationId: string; url: string; clusterId: string };
  logger: Logger;
  sessionTimeoutMs?: number;
  clock?: () => number;
}

export class BrokerController {
  readonly sessions: BrokerSessions;
  readonly #o: BrokerControllerOptions;
  readonly #now: () => number;
  readonly #timer: NodeJS.Timeout;
  readonly #unsubscribe: () => void;
  /** The epoch in which this node took over as active controller, or null while it is not. */
  #leadingEpoch: number | null = null;
  #selfInFlight = false;
  #selfFailed = false;
  #fencing = new Set<number>();
  #stopped = false;
  /** Set by a controlled shutdown: the node stops registering and unfencing itself. */
  #selfFenced = false;

  constructor(opts: BrokerControllerOptions) {
    this.#o = opts;
    this.#now = opts.clock ?? Date.now;
    this.sessions = new BrokerSessions(opts.sessionTimeoutMs ?? DEFAULT_BROKER_SESSION_TIMEOUT_MS);
    // Every commit (a new leader's epoch-start entry first) may be the moment to register itself:
    // a one-voter cluster is registered as soon as it has elected itself.
    this.#unsubscribe = opts.driver.onCommitted(() => this.#selfCheck());
    this.#timer = setInterval(() => this.tick(), SESSION_CHECK_INTERVAL_MS);
    this.#timer.unref();
    this.#selfCheck();
  }

  /** Notices a takeover, keeps this node's own session alive, registers it if needed and fences expired brokers. */
  tick(): void {
    if (this.#stopped || !this.#leading()) return;
    this.#selfCheck();
    const now = this.#now();
    for (const id of this.sessions.expired(this.#o.driver.image, now)) this.#expire(id, now);
  }

  /** BrokerRegistration from `peerNodeId`. */
  async register(req: BrokerRegistrationRequest, peerNodeId: number): Promise<BrokerRegistrationResponse> {
    try {
      if (req.brokerId !== peerNodeId) throw new EddyError('INVALID_REQUEST', `node ${peerNodeId} cannot register broker ${req.brokerId}`);
      // Checked here: the RegisterBroker record would not encode, and the error would say less.
      if (!UUID.test(req.incarnationId)) throw new EddyError('INVALID_REQUEST', `incarnation id ${JSON.stringify(req.incarnationId)} of broker ${req.brokerId} is not a UUID`);
      const listener = req.listeners.find((l) => l.name === 'client') ?? req.listeners[0];
      if (!listener) throw new EddyError('INVALID_REQUEST', `broker ${req.brokerId} named no listener`);
      const ws = `ws://${listener.host}:${listener.port}`;
      let brokerEpoch = -1;
      await this.#o.controller.write(`register broker ${req.brokerId}`, (image) => {
        const base = this.#o.driver.logEndOffset;
        // A new leader's first write may be another node's registration: the cluster id goes first.
        const clusterId: MetadataRecord[] = image.clusterId === null ? [{ type: 'ClusterId', clusterId: this.#o.self.clusterId }] : [];
        const records = [...clusterId, ...registerBroker(image, { brokerId: req.brokerId, incarnationId: req.incarnationId, endpoints: { ws, mqtt: null, http: null }, clusterId: req.clusterId }, base + clusterId.length)];
        // The epoch is the offset the RegisterBroker record lands at: after the partition moves away from an old incarnation.
        brokerEpoch = base + records.length - 1;
        const last = records[records.length - 1]!;
        if (last.type === 'RegisterBroker') records[records.length - 1] = { ...last, brokerEpoch };
        return records;
      }, { internal: true });
      this.sessions.touch(req.brokerId, this.#now());
      this.#o.logger.info({ brokerId: req.brokerId, brokerEpoch, endpoint: ws }, `node ${req.brokerId} registered as a broker (broker epoch ${brokerEpoch}); it stays fenced until it has caught up with the metadata log`);
      return { errorCode: 0, errorMessage: null, brokerEpoch };
    } catch (err) {
      const e = asEddyError(err);
      return { errorCode: e.code, errorMessage: e.detail, brokerEpoch: -1 };
    }
  }

  /** BrokerHeartbeat from `peerNodeId`. */
  async heartbeat(req: BrokerHeartbeatRequest, peerNodeId: number): Promise<BrokerHeartbeatResponse> {
    try {
      if (req.brokerId !== peerNodeId) throw new EddyError('INVALID_REQUEST', `node ${peerNodeId} cannot heartbeat for broker ${req.brokerId}`);
      this.#o.controller.checkActive();
      const caughtUp = isCaughtUp(req.brokerEpoch, req.currentMetadataOffset);
      const before = this.#o.driver.image.brokers.get(req.brokerId);
      // Heard from, even if the decision below fails: the session is about liveness.
      if (before && before.brokerEpoch === req.brokerEpoch) this.sessions.touch(req.brokerId, this.#now());
      await this.#o.controller.write(`heartbeat of broker ${req.brokerId}`, (image) => heartbeat(image, { brokerId: req.brokerId, brokerEpoch: req.brokerEpoch, caughtUp, wantFence: req.wantFence }), { internal: true });
      const after = this.#o.driver.image.brokers.get(req.brokerId);
      const fenced = after?.fenced ?? true;
      if (before?.fenced !== fenced) {
        this.#o.logger.info(
          { brokerId: req.brokerId, brokerEpoch: req.brokerEpoch, metadataOffset: req.currentMetadataOffset },
          fenced ? `fenced node ${req.brokerId} at its request (controlled shutdown): its partitions moved to other brokers or have no leader` : `unfenced node ${req.brokerId}: it has caught up with the metadata log and leads its partitions`,
        );
      }
      return { errorCode: 0, errorMessage: null, isCaughtUp: caughtUp, isFenced: fenced, shouldShutDown: req.wantShutDown && fenced };
    } catch (err) {
      const e = asEddyError(err);
      return { errorCode: e.code, errorMessage: e.detail, isCaughtUp: false, isFenced: true, shouldShutDown: false };
    }
  }

  /** Controlled shutdown of the controller's own node: it fences itself; resolves once that is committed. */
  async fenceSelf(): Promise<void> {
    this.#selfFenced = true;
    const id = this.#o.self.nodeId;
    await this.#o.controller.write(`fence node ${id} (controlled shutdown)`, (image) => {
      const b = image.brokers.get(id);
      return b && !b.fenced ? fenceBroker(image, id) : [];
    }, { internal: true });
  }

  close(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#unsubscribe();
  }

  /** Whether this node leads; on a takeover every broker's session clock starts now. */
  #leading(): boolean {
    const d = this.#o.driver;
    if (d.role !== 'leader') {
      this.#leadingEpoch = null;
      return false;
    }
    if (this.#leadingEpoch !== d.epoch) {
      this.#leadingEpoch = d.epoch;
      this.sessions.takeOver(d.image, this.#now());
    }
    return true;
  }

  /** The active controller registers, unfences and keeps alive itself: it never sends itself a heartbeat. */
  #selfCheck(): void {
    if (this.#stopped || this.#selfFenced || !this.#leading()) return;
    const { self } = this.#o;
    this.sessions.touch(self.nodeId, this.#now());
    if (this.#selfInFlight || this.#selfFailed || !missingSelf(this.#o.driver.image, self)) return;
    this.#selfInFlight = true;
    this.#o.controller
      .write(`register node ${self.nodeId} itself`, (image) => (this.#selfFenced ? [] : selfRegistrationRecords(image, self, this.#o.driver.logEndOffset)), { internal: true })
      .then(
        () => {
          this.#selfInFlight = false;
          this.#selfCheck();
        },
        (err: Error) => {
          this.#selfInFlight = false;
          if (isEddyError(err) && err.retriable) {
            // Lost leadership or timed out: the next commit or tick tries again.
            this.#o.logger.warn({ err, nodeId: self.nodeId }, `node ${self.nodeId}'s registration was not committed: ${err.message}`);
            return;
          }
          this.#selfFailed = true; // not retried: it would fail the same way every time
          this.#o.logger.error({ err, nodeId: self.nodeId }, `node ${self.nodeId} cannot register itself in the metadata log: ${err.message}`);
        },
      );
  }

  #expire(brokerId: number, now: number): void {
    if (this.#fencing.has(brokerId)) return;
    this.#fencing.add(brokerId);
    const silent = this.sessions.silentForMs(brokerId, now);
    this.#o.controller
      .write(`fence broker ${brokerId} (session expired)`, (image) => (this.sessions.expired(image, this.#now()).includes(brokerId) ? fenceBroker(image, brokerId) : []), { internal: true })
      .then(
        () => this.#o.logger.warn(
          { brokerId, silentMs: silent, sessionTimeoutMs: this.sessions.sessionTimeoutMs },
          `fenced node ${brokerId}: no heartbeat for ${silent} ms (session timeout ${this.sessions.sessionTimeoutMs} ms); its partitions moved to other brokers or have no leader until it is back`,
        ),
        (err: Error) => this.#o.logger.warn({ err, brokerId }, `could not fence node ${brokerId} after its session expired: ${err.message}`),
      )
      .finally(() => this.#fencing.delete(brokerId));
  }
}

/** Whether the image lacks something of this node's own registration (selfRegistrationRecords would write). */
function missingSelf(image: MetadataImage, self: { nodeId: number; incarnationId: string; clusterId: string }): boolean {
  const mine = image.brokers.get(self.nodeId);
  return image.clusterId === null || !mine || mine.incarnationId !== self.incarnationId || mine.fenced;
}

function asEddyError(err: unknown): EddyError {
  if (isEddyError(err)) return err;
  return new EddyError('UNKNOWN_SERVER_ERROR', (err as Error)?.message ?? String(err));
}
