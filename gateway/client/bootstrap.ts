/**
 * The `server` option of every client: one node's URL or a bootstrap list (Kafka's
 * bootstrap.servers), and the URL of a node learned from Metadata.
 */

/** What `server` accepts: `'ws://a:9400'`, `'ws://a:9400,ws://b:9400'` or `['ws://a:9400', 'ws://b:9400']`. */
export type ServerList = string | readonly string[];

/**
 * The bootstrap URLs in the order given, trimmed, without duplicates; throws TypeError for an
 * empty list or an entry that is not a ws:// or wss:// URL (naming the entry).
 */
export function bootstrapUrls(server: ServerList): string[] {
  const entries = (typeof server === 'string' ? server.split(',') : [...server].flatMap((s) => String(s).split(',')))
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (entries.length === 0) throw new TypeError('server must name at least one ws:// or wss:// URL');
  const urls: string[] = [];
  for (const entry of entries) {
    let url: URL;
    try {
      url = new URL(entry);
    } catch {
      throw new TypeError(`server entry "${entry}" is not a URL; use ws://host:port`);
    }
    if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new TypeError(`server must be a ws:// or wss:// URL, got ${entry}`);
    if (!urls.includes(entry)) urls.push(entry);
  }
  return urls;
}

/**
 * The URL of a node that Metadata names by host and port, in the scheme (and path) of the
 * bootstrap URL it was learned through. An IPv6 host is bracketed, as a URL needs.
 */
export function brokerUrl(host: string, port: number, via: string): string {
  const base = new URL(via);
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const path = base.pathname === '/' ? '' : base.pathname;
  return `${base.protocol}//${h}:${port}${path}${base.search}`;
}

/** host:port of a URL, for matching an advertised address against a bootstrap entry. */
export function hostPort(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || (u.protocol === 'wss:' ? '443' : '80')}`;
}
