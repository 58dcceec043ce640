/**
 * What a listener that could not bind says, for each of the node's three (WebSocket, MQTT,
 * HTTP): what went wrong and what to do, instead of a bare errno.
 */
export interface Listener {
  /** How the message names the listener after "cannot listen": '' or e.g. ' for MQTT'. */
  label: string;
  host: string;
  port: number;
  /** Who usually holds this port, e.g. 'another eddy?'. */
  usualHolder: string;
  /** What to do when the port is taken. */
  whenTaken: string;
  /** The flag that sets this port, e.g. '--port'. */
  portFlag: string;
}

export function listenError(err: NodeJS.ErrnoException, l: Listener): Error {
  const at = `cannot listen${l.label} on ${l.host}:${l.port}`;
  if (err.code === 'EADDRINUSE') return new Error(`${at}: the port is already in use (${l.usualHolder}). ${l.whenTaken}`);
  if (err.code === 'EACCES') return new Error(`${at}: permission denied (ports below 1024 need privileges). Choose a ${l.portFlag} above 1024`);
  if (err.code === 'EADDRNOTAVAIL') return new Error(`${at}: this machine has no such address. Check --host`);
  return new Error(`${at}: ${err.message}`);
}
