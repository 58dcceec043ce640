/** Where clients reach each broker, from its registration in the metadata image. */
import { aliveBrokers, type MetadataImage } from '../controller/metadata/index.js';

export interface BrokerAddress {
  nodeId: number;
  host: string;
  port: number;
}

/** The broker's WebSocket host and port, or null when it is not registered or its URL does not parse. */
export function brokerAddress(image: MetadataImage, nodeId: number): BrokerAddress | null {
  const url = image.brokers.get(nodeId)?.endpoints.ws;
  if (!url) return null;
  try {
    const u = new URL(url);
    const port = Number(u.port || (u.protocol === 'wss:' ? 443 : 80));
    // URL keeps IPv6 hosts bracketed; Metadata carries the bare address (clients bracket it again).
    return { nodeId, host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port };
  } catch {
    return null;
  }
}

/** Every unfenced broker with its address: Metadata's broker list (Kafka lists the live ones). */
export function aliveBrokerAddresses(image: MetadataImage): BrokerAddress[] {
  return aliveBrokers(image).flatMap((b) => {
    const a = brokerAddress(image, b.brokerId);
    return a ? [a] : [];
  });
}
