import { array, int16, struct, type Infer } from '../wire/schema.js';

/** ApiVersions (key 18): which APIs and versions this node speaks. */
export const ApiVersionsRequestV0 = struct({});

export const ApiVersionsResponseV0 = struct({
  apiKeys: array(struct({ apiKey: int16, minVersion: int16, maxVersion: int16 })),
});

export type ApiVersionsResponse = Infer<typeof ApiVersionsResponseV0>;
