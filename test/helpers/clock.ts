/**
 * Milliseconds on the machine's monotonic clock (CLOCK_MONOTONIC, through process.hrtime): one
 * clock for every process on the machine, so timestamps taken in different processes compare.
 * `performance.timeOrigin + performance.now()` does not: each process anchors it to the wall
 * clock when it starts, and a wall-clock step between two starts (NTP on a fresh CI machine)
 * shifts one process's timestamps against the other's.
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint() / 1000n) / 1000;
}
