import { describe, expect, it } from 'vitest';
import { healthVerdict } from '../../node/health.js';

describe('healthVerdict', () => {
  it('is ok, degraded (200, the disk guard\'s reason) or failing (503); a failed store outranks a full disk', () => {
    expect(healthVerdict({ storeFailure: null, diskRefusal: null })).toEqual({ status: 'ok', httpStatus: 200 });
    expect(healthVerdict({ storeFailure: null, diskRefusal: 'the disk is 96 % full' })).toEqual({
      status: 'degraded',
      httpStatus: 200,
      reason: 'new records are refused; reads and offset commits go on: the disk is 96 % full',
    });
    const failing = healthVerdict({ storeFailure: 'SQLITE_IOERR disk I/O error', diskRefusal: 'the disk is 96 % full' });
    expect(failing).toMatchObject({ status: 'failing', httpStatus: 503 });
    expect(failing.reason).toBe(
      'the log store failed and refuses all writes until eddy is restarted: SQLITE_IOERR disk I/O error. ' +
        'Check the disk (dmesg, df -h, the data directory) and the node log, then restart eddy; acknowledged records are kept',
    );
  });
});
