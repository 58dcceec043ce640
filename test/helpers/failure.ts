import { isEddyError } from '../../protocol/errors.js';

/** How `fn` failed, as "ERROR_NAME: detail" for an EddyError and the message otherwise; 'ok' if it did not. */
export function failureOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return describeFailure(err);
  }
  return 'ok';
}

/** The EddyError name `fn` threw, undefined if it did not throw; anything else is rethrown. */
export function errorNameOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (isEddyError(err)) return err.errorName;
    throw err;
  }
  return undefined;
}

/** failureOf for a promise. */
export async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return describeFailure(err);
  }
  return 'ok';
}

function describeFailure(err: unknown): string {
  return isEddyError(err) ? `${err.errorName}: ${err.detail}` : String(err);
}
