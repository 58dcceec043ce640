import type { Command } from 'commander';

export const DEFAULT_SERVER = 'ws://127.0.0.1:9400';

/** How long a CLI request may wait (connection included) before the command gives up. */
export const CLI_TIMEOUT_MS = 10_000;

/** Adds --server to a client command. */
export function withServer(cmd: Command): Command {
  return cmd.option(
    '--server <urls>',
    `node(s) to bootstrap from: one ws://host:port or a comma-separated list, tried in turn (EDDY_SERVER, default ${DEFAULT_SERVER})`,
  );
}

/**
 * --server, else EDDY_SERVER, else the default: one URL or a comma-separated bootstrap list,
 * each entry checked to be a ws:// or wss:// URL. Returns the list joined by commas (empty
 * entries and duplicates dropped), as the clients' `server` option takes it.
 */
export function serverUrl(flag: string | undefined, env: Record<string, string | undefined>): string {
  const value = flag ?? env.EDDY_SERVER ?? DEFAULT_SERVER;
  const entries = [...new Set(value.split(',').map((s) => s.trim()).filter((s) => s !== ''))];
  if (entries.length === 0) throw new Error(`--server "${value}" names no node; use ws://host:port (for example ${DEFAULT_SERVER})`);
  for (const url of entries) {
    if (!/^wss?:\/\/[^\s/,]+/.test(url)) {
      const what = entries.length > 1 ? `entry "${url}" of --server "${value}"` : `--server "${url}"`;
      throw new Error(`${what} is not a WebSocket URL; use ws://host:port, or a comma-separated list of them (for example ${DEFAULT_SERVER})`);
    }
  }
  return entries.join(',');
}
