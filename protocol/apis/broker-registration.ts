import { array, int16, int32, int64, nullableString, string, struct, type Infer } from '../wire/schema.js';

/**
 * BrokerRegistration (key 62, KIP-631), peer only: a node announces itself to the active
 * controller at start-up and gets its broker epoch. incarnationId is a fresh UUID (text) per
 * process start, so the controller tells a restarted node from a duplicate registration.
 */
export const BrokerRegistrationRequestV0 = struct({
  brokerId: int32,
  clusterId: string,
  incarnationId: string,
  /** Where the node listens: name (`client`, `peer`), advertised host and port (WebSocket: ws://host:port). */
  listeners: array(struct({ name: string, host: string, port: int32 })),
  /** Feature versions this node supports, so the controller keeps the cluster at ones all nodes can run. */
  features: array(struct({ name: string, minSupportedVersion: int16, maxSupportedVersion: int16 })),
  rack: nullableString,
  /** The epoch of this node's last registration (−1 none): lets the controller skip fencing on a clean restart. */
  previousBrokerEpoch: int64,
});

export const BrokerRegistrationResponseV0 = struct({
  errorCode: int16,
  errorMessage: nullableString,
  brokerEpoch: int64,
});

export type BrokerRegistrationRequest = Infer<typeof BrokerRegistrationRequestV0>;
export type BrokerRegistrationResponse = Infer<typeof BrokerRegistrationResponseV0>;
