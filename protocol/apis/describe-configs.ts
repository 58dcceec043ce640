import { array, int16, nullableArray, nullableString, string, struct, type Infer } from '../wire/schema.js';

/**
 * DescribeConfigs (key 32), for topics only. names null = every config. source is
 * "topic" (set on the topic) or "default" (the node default).
 */
export const DescribeConfigsRequestV0 = struct({
  topics: array(struct({ name: string, configNames: nullableArray(string) })),
});

export const DescribeConfigsResponseV0 = struct({
  topics: array(
    struct({
      name: string,
      errorCode: int16,
      errorMessage: nullableString,
      configs: array(struct({ name: string, value: string, source: string })),
    }),
  ),
});

export type DescribeConfigsRequest = Infer<typeof DescribeConfigsRequestV0>;
export type DescribeConfigsResponse = Infer<typeof DescribeConfigsResponseV0>;
