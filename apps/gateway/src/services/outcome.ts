import type { ErrorCode } from "@obuna/contracts/errors";

/**
 * Why a service (a checkout step, an account or Stars use case) did not do what was asked, in the
 * gateway's closed error codes but without an HTTP status: the route (errors.ts `orApiError`) turns it
 * into the error envelope. Services never throw HTTP errors.
 */
export interface CheckoutRefusal {
  code: ErrorCode;
  message: string;
  field?: string;
  details?: Record<string, unknown>;
  /** The provider error behind it, for the log. */
  cause?: unknown;
}

/** What every service returns: its answer, or the refusal. */
export type ServiceResult<T> = { ok: true; value: T } | { ok: false; refusal: CheckoutRefusal };
/** A checkout step's result (the same shape). */
export type CheckoutResult<T> = ServiceResult<T>;

/**
 * Internal to the services: a refusal raised deep inside a step (after the session row was
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

/**
 * A user may act only on what is theirs; our bot and service tokens act for anyone within their
 * scopes. Someone else's resource is refused exactly like a missing one (`notFound`): its existence
 * is not revealed.
 */
export function refuseUnlessOwner(
  caller: { kind: "internal" } | { kind: "user"; telegramId: number },
  ownerTelegramId: number,
  notFound: { code: ErrorCode; message: string } = { code: "NOT_FOUND", message: "Not found" },
): void {
  if (caller.kind === "internal") return;
  if (caller.telegramId !== ownerTelegramId) refuse(notFound.code, notFound.message);
}
