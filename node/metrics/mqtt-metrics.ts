/**
 * What MQTT ingest counts. The interface is all the bridge (firmware-bridge/) sees, so it
 * depends on node/ and never the other way round; the Prometheus counters behind it are created
 * only when MQTT ingest starts.
 *
 * Every message handed to ingest ends in exactly one of stored, dead-lettered, dropped or not
 * acknowledged, so received = stored + dead_lettered + dropped + not_acknowledged.
 */
import { Counter, type Registry } from 'prom-client';
import { cached } from './cached-counter.js';

export interface MqttMetrics {
  /** A message reached ingest (retransmissions of refused ones count again). */
  received(): void;
  /** Appended to the topic its rule names. */
  stored(): void;
  /** Could never be stored (`reason`, e.g. `unmapped`) and went to the dead-letter topic. */
  deadLettered(reason: string): void;
  /** Lost: could never be stored and no dead-letter topic is set, or a QoS 0 message the log refused (`qos0_refused`). */
  dropped(reason: string): void;
  /** A QoS 1/2 message the log refused (disk full, store failing): no ack, the sender retransmits. */
  notAcknowledged(): void;
}

export const NO_MQTT_METRICS: MqttMetrics = {
  received() {},
  stored() {},
  deadLettered() {},
  dropped() {},
  notAcknowledged() {},
};

/** Label values use underscores, as Prometheus labels usually do (`bad-json` → `bad_json`). */
const reasonLabel = (reason: string): string => reason.replace(/-/g, '_');

export function createMqttMetrics(registry: Registry): MqttMetrics {
  const registers = [registry];
  const received = new Counter({ name: 'eddy_mqtt_messages_received_total', help: 'MQTT messages handed to ingest (embedded listener and bridges), retransmissions included', registers });
  const stored = new Counter({ name: 'eddy_mqtt_messages_stored_total', help: 'MQTT messages appended to the topic their rule names', registers });
  const deadLettered = new Counter({
    name: 'eddy_mqtt_messages_dead_lettered_total',
    help: 'MQTT messages that could never be stored, sent to the dead-letter topic, by reason',
    labelNames: ['reason'],
    registers,
  });
  const dropped = new Counter({
    name: 'eddy_mqtt_messages_dropped_total',
    help: 'MQTT messages lost, by reason: could never be stored and no dead-letter topic is set, or qos0_refused (the log refused a QoS 0 message)',
    labelNames: ['reason'],
    registers,
  });
  const notAcknowledged = new Counter({
    name: 'eddy_mqtt_messages_not_acknowledged_total',
    help: 'QoS 1/2 MQTT messages the log refused (disk full, store failing); not acknowledged, so the sender retransmits',
    registers,
  });
  const deadLetteredBy = cached(deadLettered, (reason) => [reasonLabel(reason)]);
  const droppedBy = cached(dropped, (reason) => [reasonLabel(reason)]);
  return {
    received: () => received.inc(),
    stored: () => stored.inc(),
    deadLettered: (reason) => deadLetteredBy(reason).inc(),
    dropped: (reason) => droppedBy(reason).inc(),
    notAcknowledged: () => notAcknowledged.inc(),
  };
}
