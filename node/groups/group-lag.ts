/**
 * A group's lag on a partition, as kafka-consumer-groups shows it: the high watermark (what a
 * consumer can reach) minus the committed offset. Negative when the commit is past the high
 * watermark (offsets reset beyond the end): shown, not hidden. -1 when either is unknown (no
 * commit, or the topic is gone). `eddy groups describe` and the lag metric both use this.
 */
export function groupLag(committedOffset: number, highWatermark: number): number {
  return committedOffset >= 0 && highWatermark >= 0 ? highWatermark - committedOffset : -1;
}
