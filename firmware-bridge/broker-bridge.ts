/**
 * A bridge from an existing MQTT broker (e.g. mosquitto) into Eddy.
 *
 * - Persistent session (clean=false) under a fixed client id, with QoS 1 subscriptions: while
 *   Eddy is down, the broker queues what devices publish and delivers it after the restart.
 * - The broker gets each PUBACK only after the record is durably appended: mqtt.js sends the
 *   PUBACK when `handleMessage` calls back (its documented backpressure hook, one message at a
 *   time, MQTT 3.1.1 and 5 alike), so a message is either in Eddy's log or still queued at the
 *   broker, and order is kept. The price: one durable append per message (no group commit
 *   across a bridge's messages), which bounds a bridge's rate by the disk's sync latency.
 * - When the log refuses a message (disk full), no ack is sent and the connection is dropped: the
 *   broker redelivers unacknowledged messages when the bridge reconnects, with backoff.
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from '../node/logger.js';
import type { MqttIngest } from './ingest.js';

export interface BrokerBridgeOptions {
  /** mqtt://host:port of the broker. */
  url: string;
  /** Topic filters to subscribe to at QoS 1. */
  topics: readonly string[];
  /** Fixed across restarts: the broker keeps the session (and queued messages) under it. */
  clientId: string;
  username?: string;
  password?: string;
  ingest: MqttIngest;
  logger: Logger;
  /** Reconnect backoff: first delay, doubled per failure up to the maximum. */
  reconnectInitialMs?: number;
  reconnectMaxMs?: number;
}

export interface BrokerBridgeStats {
  stored: number;
  refused: number;
  connects: number;
}

export class BrokerBridge {
  readonly stats: BrokerBridgeStats = { stored: 0, refused: 0, connects: 0 };
  readonly #client: MqttClient;
  readonly #opts: BrokerBridgeOptions;

  private constructor(opts: BrokerBridgeOptions) {
    this.#opts = opts;
    const initial = opts.reconnectInitialMs ?? 500;
    const max = opts.reconnectMaxMs ?? 30_000;
    this.#client = mqtt.connect(opts.url, {
      clientId: opts.clientId,
      clean: false,
      protocolVersion: 4,
      reconnectPeriod: initial,
      ...(opts.username !== undefined ? { username: opts.username } : {}),
      ...(opts.password !== undefined ? { password: opts.password } : {}),
    });
    const client = this.#client;
    client.handleMessage = (packet, callback) => {
      if (packet.cmd !== 'publish') return callback();
      this.#onMessage(packet.topic, packet.payload as Buffer, packet.qos, packet.retain, callback);
    };
    client.on('connect', (connack) => {
      this.stats.connects++;
      client.options.reconnectPeriod = initial;
      opts.logger.info({ url: opts.url, sessionPresent: connack.sessionPresent }, `MQTT bridge connected to ${opts.url}`);
      // Subscribing again is harmless when the session survived, and needed when it did not.
      client.subscribe([...opts.topics], { qos: 1 }, (err) => {
        if (err) opts.logger.error({ url: opts.url, err: err.message }, `MQTT bridge could not subscribe to ${opts.topics.join(', ')} on ${opts.url}`);
      });
    });
    client.on('close', () => {
      // Exponential backoff between attempts: a broker that is down is not hammered.
      client.options.reconnectPeriod = Math.min(max, (client.options.reconnectPeriod ?? initial) * 2);
    });
    client.on('error', (err) =>
      opts.logger.warn({ url: opts.url, err: err.message }, `MQTT bridge to ${opts.url}: ${err.message}; retrying with backoff`),
    );
  }

  /** Starts connecting; returns at once (the bridge keeps retrying until closed). */
  static start(opts: BrokerBridgeOptions): BrokerBridge {
    return new BrokerBridge(opts);
  }

  get connected(): boolean {
    return this.#client.connected;
  }

  #onMessage(topic: string, payload: Buffer, qos: number, retain: boolean, ack: () => void): void {
    this.#opts.ingest
      .ingest({ topic, payload: new Uint8Array(payload), qos: qos as 0 | 1 | 2, retain, clientId: null })
      .then(
        () => {
          this.stats.stored++;
          ack(); // mqtt.js now sends the PUBACK
        },
        (err: Error) => {
          this.stats.refused++;
          this.#opts.logger.warn(
            { url: this.#opts.url, topic, err: err.message },
            'MQTT bridge: the log refused a message; not acknowledging it and reconnecting so the broker redelivers it',
          );
          // No ack: drop the connection so the broker redelivers after the reconnect.
          this.#client.stream?.destroy();
        },
      );
  }

  /** Disconnects without ending the session: the broker keeps queueing for our client id. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.#client.end(false, {}, () => resolve()));
  }
}
