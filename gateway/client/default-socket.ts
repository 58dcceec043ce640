/**
 * The socket factory used when none is given. This is the one module a browser bundle would
 * alias (e.g. package.json "browser" field) to a factory over the global WebSocket.
 */
export { wsSocketFactory as defaultSocketFactory } from './ws-socket.js';
