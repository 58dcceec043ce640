import { array, bool, int16, int8, nullableString, string, struct, type Infer } from '../wire/schema.js';

/** Kafka's config operations; Eddy has no list-valued configs, so APPEND (2) and SUBTRACT (3) are refused. */
export const ConfigOperation = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;

/**
 * IncrementalAlterConfigs (key 44), for topics only. Each entry sets a config (SET, with a
 * value) or removes it from the topic so that it reverts to the default (DELETE, value null).
 * validateOnly checks without changing anything.
 */
export const IncrementalAlterConfigsRequestV0 = struct({
  topics: array(
    struct({
      name: string,
      configs: array(struct({ name: string, operation: int8, value: nullableString })),
    }),
  ),
  validateOnly: bool,
});

export const IncrementalAlterConfigsResponseV0 = struct({
  topics: array(struct({ name: string, errorCode: int16, errorMessage: nullableString })),
});

export type IncrementalAlterConfigsRequest = Infer<typeof IncrementalAlterConfigsRequestV0>;
export type IncrementalAlterConfigsResponse = Infer<typeof IncrementalAlterConfigsResponseV0>;
