/**
 * Node only: installs hardware CRC-32C (SSE4.2 on x64, the CRC extension on arm64) from
 * @node-rs/crc32, about six times faster than the JavaScript tables, for the broker's batch
 * validation and the Node client's encoding and checks. Import it for its effect from Node entry
 * points. Where the prebuilt module is missing (an unusual platform), the JavaScript
 * implementation stays: correct, only slower.
 */
import { createRequire } from 'node:module';
import { loadAddon, packagedAddonPath } from '../runtime/packaged.js';
import { setCrc32cImplementation } from './crc32c.js';

interface NativeCrc {
  crc32c(input: Buffer, initialState?: number): number;
}

function load(): NativeCrc | null {
  try {
    // The packaged executable carries the platform's prebuilt addon as an asset.
    const packaged = packagedAddonPath('crc32.node');
    if (packaged) return loadAddon(packaged) as NativeCrc;
    return createRequire(import.meta.url)('@node-rs/crc32') as NativeCrc;
  } catch {
    return null;
  }
}

const native = load();
if (native) {
  setCrc32cImplementation('@node-rs/crc32', (bytes, start, end) =>
    native.crc32c(Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start)) >>> 0,
  );
}
