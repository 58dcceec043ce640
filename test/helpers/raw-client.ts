/**
 * A bare protocol client for server tests: sends arbitrary frames (including broken ones) and
 * decodes responses with the protocol schemas. The SDK is tested separately; this one exists so
 * that server tests can send what the SDK never would.
 */
import WebSocket from 'ws';
import { API_BY_KEY } from '../../protocol/apis/index.js';
import { readResponseHeader, writeRequest, type ResponseHeader } from '../../protocol/frame.js';
import { decode, encode } from '../../protocol/wire/schema.js';

export interface RawResponse {
  header: ResponseHeader;
  body: Uint8Array;
}

export class RawClient {
  #next = 1;
  #waiting = new Map<number, (r: RawResponse) => void>();
  closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d: Buffer) => {
      const { header, body } = readResponseHeader(new Uint8Array(d));
      this.#waiting.get(header.correlationId)?.({ header, body });
      this.#waiting.delete(header.correlationId);
    });
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static async connect(url: string): Promise<RawClient> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new RawClient(ws);
  }

  /** Sends raw bytes as one binary frame. */
  sendRaw(frame: Uint8Array): void {
    this.ws.send(frame, { binary: true });
  }

  /** Sends a body under a header and waits for the response with that correlation id. */
  send(apiKey: number, body: Uint8Array, apiVersion = 0, timeoutMs = 5000): Promise<RawResponse> {
    const correlationId = this.#next++;
    const p = new Promise<RawResponse>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no response to correlation id ${correlationId} within ${timeoutMs} ms`)), timeoutMs);
      this.#waiting.set(correlationId, (r) => {
        clearTimeout(t);
        resolve(r);
      });
    });
    this.ws.send(writeRequest({ apiKey, apiVersion, correlationId, clientId: 'raw-test' }, body), { binary: true });
    return p;
  }

  /**
   * Encodes with the schema of `apiVersion` (default: the newest, as the SDK sends), sends, and
   * decodes the response (or throws the header error, with its code).
   */
  async call<T = any>(apiKey: number, request: unknown, apiVersion?: number): Promise<T> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const api = API_BY_KEY.get(apiKey)!;
    const version = apiVersion ?? api.newest.version;
    const schemas = api.versions[version]!;
    const { header, body } = await this.send(apiKey, encode(schemas.request, request as never), version);
    if (header.errorCode !== 0) throw Object.assign(new Error(header.errorMessage ?? 'error'), { code: header.errorCode });
    return decode(schemas.response, body) as T;
  }

  close(): void {
    this.ws.close();
  }
}
