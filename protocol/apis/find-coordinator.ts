import { int16, int32, int8, nullableString, string, struct, type Infer } from '../wire/schema.js';

/** Kafka's CoordinatorType: what the key names. Eddy has groups only (transactions would be 1). */
export const CoordinatorKeyType = { GROUP: 0 } as const;

/**
 * FindCoordinator (key 10, Kafka's v1 to v3 shape), a client API: which node coordinates the
 * group named `key`. The answer names the node as Metadata's brokers do, by advertised host and
 * port; the client connects to ws://host:port. Host and port rather than a URL keep Kafka's
 * field names and one way of naming a node across APIs.
 */
export const FindCoordinatorRequestV0 = struct({
  key: string,
  keyType: int8,
});

export const FindCoordinatorResponseV0 = struct({
  errorCode: int16,
  errorMessage: nullableString,
  nodeId: int32,
  host: string,
  port: int32,
});

export type FindCoordinatorRequest = Infer<typeof FindCoordinatorRequestV0>;
export type FindCoordinatorResponse = Infer<typeof FindCoordinatorResponseV0>;
