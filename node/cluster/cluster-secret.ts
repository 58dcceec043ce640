/**
 * The shared secret peer links authenticate with (see peer-auth.ts). It is read once at
 * start-up from --cluster-secret-file; the text, trimmed, is the HMAC key as it stands (base64
 * from the suggested command is fine: it is not decoded, so any text of 16 bytes or more works).
 */
import { readFileSync } from 'node:fs';

/** Shortest secret accepted, in bytes: 128 bits. */
export const MIN_SECRET_BYTES = 16;

/** How an operator makes a secret; every refusal that needs one says it. */
export function secretHowTo(path = '/etc/eddy/cluster.secret'): string {
  return `make one with: head -c 32 /dev/urandom | base64 > ${path} && chmod 600 ${path}, copy the same file to every node, and pass --cluster-secret-file ${path} (or EDDY_CLUSTER_SECRET_FILE)`;
}

/** Reads the secret, or throws an Error saying what is wrong with the file and how to fix it. */
export function readClusterSecret(path: string): Buffer {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'cannot be read by this user' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    throw new Error(`the cluster secret file ${why}; ${secretHowTo(path)}`);
  }
  const secret = Buffer.from(text.trim(), 'utf8');
  if (secret.length === 0) throw new Error(`the cluster secret file is empty; ${secretHowTo(path)}`);
  if (secret.length < MIN_SECRET_BYTES) {
    throw new Error(`the cluster secret is ${secret.length} bytes, shorter than ${MIN_SECRET_BYTES}; ${secretHowTo(path)}`);
  }
  return secret;
}
