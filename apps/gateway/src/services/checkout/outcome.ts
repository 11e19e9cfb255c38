import type { ErrorCode } from "@obuna/contracts/errors";

/**
 * Why a checkout step did not do what was asked, in the gateway's closed error codes but without an
 * HTTP status: the route (errors.ts `orApiError`) turns it into the error envelope.
 */
export interface CheckoutRefusal {
  code: ErrorCode;
  message: string;
  field?: string;
  details?: Record<string, unknown>;
  /** The provider error behind it, for the log. */
  cause?: unknown;
}

/** What every checkout step returns: its answer, or the refusal. */
export type CheckoutResult<T> = { ok: true; value: T } | { ok: false; refusal: CheckoutRefusal };

/**
 * Internal to the checkout steps: a refusal raised deep inside a step (after the session row was
 * already released or failed) and turned into the step's `CheckoutResult` at its boundary (`asResult`).
 */
export class Refused extends Error {
  readonly refusal: CheckoutRefusal;
  constructor(refusal: CheckoutRefusal) {
    super(refusal.message);
    this.name = "Refused";
    this.refusal = refusal;
  }
}

export function refuse(
  code: ErrorCode,
  message: string,
  extra: Omit<CheckoutRefusal, "code" | "message"> = {},
): never {
  throw new Refused({ code, message, ...extra });
}

/** Runs a step; a refusal raised inside becomes `{ ok: false }`, anything else stays an error. */
export async function asResult<T>(step: () => Promise<T>): Promise<CheckoutResult<T>> {
  try {
    return { ok: true, value: await step() };
  } catch (error) {
    if (error instanceof Refused) return { ok: false, refusal: error.refusal };
    throw error;
  }
}
