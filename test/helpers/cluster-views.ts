/** What one node of a test cluster says about the cluster, or null when it cannot say (down, not the leader). */
import { Admin, type QuorumDescription } from '../../gateway/client/index.js';
import { Apis } from '../../protocol/apis/index.js';
import type { MetadataResponse } from '../../protocol/apis/metadata.js';
import { RawClient } from './raw-client.js';

/** The quorum as node `url` describes it, or null when it is not the leader (or is down). */
export async function describeQuorumAt(url: string): Promise<QuorumDescription | null> {
  const admin = new Admin({ server: url, requestTimeoutMs: 2000, reconnectBackoffMaxMs: 100 });
  try {
    return await admin.describeQuorum();
  } catch {
    return null;
  } finally {
    await admin.close().catch(() => {});
  }
}

/** Node `url`'s own Metadata answer (topics null: all), or null when it does not answer. */
export async function metadataAt(url: string, topics: string[] | null = null): Promise<MetadataResponse | null> {
  let c: RawClient | undefined;
  try {
    c = await RawClient.connect(url);
    return await c.call<MetadataResponse>(Apis.Metadata.key, { topics });
  } catch {
    return null;
  } finally {
    c?.close();
  }
}
