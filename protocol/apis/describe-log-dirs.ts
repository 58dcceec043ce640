import { array, int16, int32, int64, nullableArray, nullableString, string, struct, type Infer } from '../wire/schema.js';

/** DescribeLogDirs (key 35): per-partition log size and offsets. topics null = all topics. */
export const DescribeLogDirsRequestV0 = struct({ topics: nullableArray(string) });

export const DescribeLogDirsResponseV0 = struct({
  logDir: string,
  topics: array(
    struct({
      name: string,
      errorCode: int16,
      errorMessage: nullableString,
      partitions: array(
        struct({ partition: int32, sizeBytes: int64, logStartOffset: int64, logEndOffset: int64, highWatermark: int64 }),
      ),
    }),
  ),
});

export type DescribeLogDirsRequest = Infer<typeof DescribeLogDirsRequestV0>;
export type DescribeLogDirsResponse = Infer<typeof DescribeLogDirsResponseV0>;
