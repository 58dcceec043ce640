/** The Admin client as CLI commands use it: one per command, closed when the command is done. */
import { Admin } from '../gateway/client/index.js';
import { CLI_TIMEOUT_MS, serverUrl } from './server-option.js';

/** Runs `fn` with an Admin for --server (else EDDY_SERVER, else the default), then closes it. */
export async function withAdmin<T>(server: string | undefined, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Admin({ server: serverUrl(server, process.env), clientId: 'eddy-cli', requestTimeoutMs: CLI_TIMEOUT_MS });
  try {
    return await fn(admin);
  } finally {
    await admin.close();
  }
}
