import type { Command } from 'commander';

export const DEFAULT_SERVER = 'ws://127.0.0.1:9400';

/** How long a CLI request may wait (connection included) before the command gives up. */
export const CLI_TIMEOUT_MS = 10_000;

/** Adds --server to a client command. */
export function withServer(cmd: Command): Command {
  return cmd.option('--server <url>', `node to talk to (EDDY_SERVER, default ${DEFAULT_SERVER})`);
}

/** --server, else EDDY_SERVER, else the default; checked to be a ws:// or wss:// URL. */
export function serverUrl(flag: string | undefined, env: Record<string, string | undefined>): string {
  const url = flag ?? env.EDDY_SERVER ?? DEFAULT_SERVER;
  if (!/^wss?:\/\/[^\s/]+/.test(url)) {
    throw new Error(`--server "${url}" is not a WebSocket URL; use ws://host:port (for example ${DEFAULT_SERVER})`);
  }
  return url;
}
