/**
 * Who sent a request, as the gateway knows it: what handlers may log, show (group members) and
 * allow. Set once per connection by whoever accepted it.
 */
export interface RequestOrigin {
  /** The client id from the request header ('' when none was sent). */
  clientId: string;
  /** The remote address of the connection. */
  clientHost: string;
  /** Aborted when the connection goes away: long-polls (Fetch, held heartbeats) stop waiting. */
  signal?: AbortSignal;
  /**
   * The node id at the other end of an authenticated peer link (a broker replicating from this
   * one); absent on client connections. Only a peer may fetch as a replica (Fetch replicaId ≥ 0),
   * and only under its own id. Nobody sets it yet: peer links come with the Raft cluster.
   */
  peerNodeId?: number;
}
