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
   * The node id at the other end of an authenticated peer link (set by the peer handlers for
   * forwarded admin writes and Produce); absent on client connections. A request from a peer is
   * decided where it arrives, never forwarded again, and may create internal topics.
   */
  peerNodeId?: number;
}
