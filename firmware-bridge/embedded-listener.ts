/**
 * The embedded MQTT listener (aedes, MQTT 3.1.1) that devices publish to.
 *
 * Ack-after-durable: aedes calls `authorizePublish` before it writes PUBACK (QoS 1) or PUBREC
 * (QoS 2), so the record is appended there and the callback runs only once the append is
 * durable. If the log refuses (retriable error) the callback gets an error: aedes sends no ack
 * and closes the connection, and the device retransmits after reconnecting.
 *
 * Backpressure: aedes reads a client's next socket chunk only after every packet of the current
 * one has been handled (lib/client.js nextBatch), and a QoS 1/2 publish is handled only when its
 * append is durable. While the log lags, the listener stops reading, and TCP pushes back on the
 * device: nothing is buffered without bound.
 *
 * QoS 2 exactly-once while the node runs: a DUP retransmission of a PUBLISH whose PUBREC was
 * lost is found in aedes' incoming store (kept until PUBREL) and is not appended again. The
 * store is in memory: a retransmission after a node restart can be appended twice.
 */
import { Aedes, type AuthenticateError, type Client, type PublishPacket } from 'aedes';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { listenError } from '../node/listen-error.js';
import type { Logger } from '../node/logger.js';
import type { MqttIngest } from './ingest.js';

/** Checks a device's username/password; real authentication plugs in here later. */
export type MqttAuthenticator = (clientId: string, username: string | undefined, password: Buffer | undefined) => boolean | Promise<boolean>;

export interface MqttListenerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  ingest: MqttIngest;
  logger: Logger;
  authenticate?: MqttAuthenticator;
}

export interface MqttListenerStats {
  /** QoS 0 messages the log refused: nothing can be withheld from the device, so they are lost. */
  qos0Lost: number;
  /** QoS 1/2 publishes refused (not acknowledged; the device retransmits). */
  notAcknowledged: number;
}

function asBytes(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** aedes keeps incoming QoS 2 packets until PUBREL; its typings omit the store. */
interface WithIncomingStore {
  persistence: { incomingGetPacket(client: Client, packet: PublishPacket): Promise<unknown> };
}

export class MqttListener {
  readonly stats: MqttListenerStats = { qos0Lost: 0, notAcknowledged: 0 };
  readonly #broker: Aedes;
  readonly #server: Server;
  /** QoS 2 publishes (client id + packet id) whose first copy is being appended. */
  readonly #qos2Appending = new Map<string, Promise<unknown>>();

  private constructor(broker: Aedes, server: Server) {
    this.#broker = broker;
    this.#server = server;
  }

  static async start(opts: MqttListenerOptions): Promise<MqttListener> {
    const broker = await Aedes.createBroker();
    // noDelay: a PUBACK is a few bytes; Nagle's algorithm would hold it until the client's TCP
    // ACK arrives (measured: PUBACK p50 11.4 ms with it, 3.7 ms without, at 5,000 msg/s).
    const server = createServer({ noDelay: true }, broker.handle);
    const listener = new MqttListener(broker, server);
    broker.authorizePublish = (client, packet, done) => listener.#onPublish(client, packet, opts, done);
    if (opts.authenticate) {
      const check = opts.authenticate;
      broker.authenticate = (client, username, password, done) => {
        Promise.resolve(check(client.id, username, password)).then(
          (ok) => done(ok ? null : Object.assign(new Error('bad user name or password'), { returnCode: 4 }) as AuthenticateError, ok),
          (err: Error) => done(Object.assign(err, { returnCode: 3 }) as AuthenticateError, false),
        );
      };
    }
    broker.on('clientError', (client, err) => opts.logger.debug({ clientId: client?.id, err: err.message }, 'MQTT client error'));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        broker.close(); // its heartbeat timer would keep the process alive
        reject(
          listenError(err, {
            label: ' for MQTT',
            host: opts.host,
            port: opts.port,
            usualHolder: 'mosquitto?',
            whenTaken: 'Choose another --mqtt-port or --no-mqtt',
            portFlag: '--mqtt-port',
          }),
        );
      });
      server.listen(opts.port, opts.host, () => resolve());
    });
    return listener;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  #onPublish(client: Client | null, packet: PublishPacket, opts: MqttListenerOptions, done: (err?: Error | null) => void): void {
    const qos = packet.qos as 0 | 1 | 2;
    const message = {
      topic: packet.topic,
      payload: asBytes(packet.payload as Buffer), // a view: the batch encoder copies it once
      qos,
      retain: packet.retain,
      clientId: client?.id ?? null,
    };
    /** Acknowledges (through aedes) once `stored` settles: on success, or not at all on failure. */
    const finish = (stored: Promise<unknown>) =>
      stored.then(
        () => done(null),
        (err: Error) => {
          if (qos === 0) {
            this.stats.qos0Lost++;
            opts.logger.warn({ topic: packet.topic, err: err.message }, 'MQTT QoS 0 message lost: the log refused it and QoS 0 cannot be retransmitted');
            done(null);
          } else {
            this.stats.notAcknowledged++;
            opts.logger.warn({ topic: packet.topic, err: err.message }, 'MQTT publish not acknowledged: the log refused it; the device will retransmit');
            done(err);
          }
        },
      );
    if (qos !== 2 || !client) {
      void finish(opts.ingest.ingest(message));
      return;
    }
    // A retransmission of a QoS 2 PUBLISH was appended the first time: either aedes already holds
    // it (awaiting PUBREL), or its first copy is being appended right now (aedes stores it only
    // after this hook calls back); then the retransmission shares that append's outcome.
    const id = `${client.id}\u0000${packet.messageId}`;
    const first = this.#qos2Appending.get(id);
    if (first) {
      void finish(first);
      return;
    }
    const store = (this.#broker as unknown as WithIncomingStore).persistence;
    const appended = store.incomingGetPacket(client, packet).then(
      () => undefined, // already stored and awaiting PUBREL: nothing to append
      () => opts.ingest.ingest(message),
    );
    this.#qos2Appending.set(id, appended);
    appended.then(
      () => this.#qos2Appending.delete(id),
      () => this.#qos2Appending.delete(id),
    );
    void finish(appended);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.#broker.close(() => resolve()));
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
