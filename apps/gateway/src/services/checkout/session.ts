import { randomInt } from "node:crypto";
import type { PaymentSession } from "@obuna/db";
import { expireSession, getSessionView, type SessionView } from "@obuna/db/queries";
import type { Caller, GatewayDeps } from "../../context";
import { refuse } from "../outcome";

/** The checkout steps' dependencies (metrics are always set inside the app). */
export type Deps = GatewayDeps & { metrics: NonNullable<GatewayDeps["metrics"]> };

export const MAX_OTP_ATTEMPTS = 5;
export const DEFAULT_SESSION_TTL_MS = 30 * 60 * 1000;
export const DEFAULT_OTP_RESEND_COOLDOWN_MS = 60 * 1000;

export function cooldownMs(deps: Deps) {
  return deps.config.otpResendCooldownMs ?? DEFAULT_OTP_RESEND_COOLDOWN_MS;
}

/** Loads a session the caller may reach; a pending session past its time becomes `expired` (410). */
export async function loadSession(deps: Deps, caller: Caller, sessionId: string): Promise<SessionView> {
  const view = await getSessionView(deps.db, sessionId);
  // Another user's session is "not found", like a missing one.
  if (!view || (caller.kind === "user" && caller.telegramId !== view.telegramId)) {
    refuse("SESSION_NOT_FOUND", "Payment session not found");
  }
  const now = deps.clock();
  if (view.session.status === "pending" && view.session.expiresAt <= now) {
    await expireSession(
      deps.db,
      sessionId,
      new Date(Math.max(now.getTime(), view.session.expiresAt.getTime() + 1)),
    );
    view.session.status = "expired";
  }
  return view;
}

export function refuseExpired(): never {
  refuse("SESSION_EXPIRED", "The payment session has expired; ask the bot for a new link");
}

/** Only a `pending` session takes a payment step. */
export function assertPayable(session: PaymentSession): void {
  const { status } = session;
  if (status === "pending") return;
  if (status === "expired") refuseExpired();
  if (status === "completed") refuse("SESSION_ALREADY_COMPLETED", "This session is already paid");
  if (status === "failed") {
    refuse(
      "SESSION_FAILED",
      `This session has failed (${session.failureReason ?? "declined"}); ask the bot for a new link`,
    );
  }
  refuse("INVALID_STATE", "The payment is being processed");
}

/** The session's provider payment, which the client must name as it was created. */
export function assertPayment(session: PaymentSession, transactionId: number): string {
  if (session.externalId === null) {
    refuse("INVALID_STATE", "No payment yet: call /api/v1/checkout/create first");
  }
  // The wire contract names ATMOS's numeric transaction id; the row keeps the provider's id as text.
  if (session.externalId !== String(transactionId)) {
    refuse("TRANSACTION_MISMATCH", "transaction_id does not belong to this session", {
      field: "transaction_id",
    });
  }
  return session.externalId;
}

/** A digit-only, unique payment reference (ATMOS `account`; callbacks are matched by it). */
export function newPaymentReference(now: Date): string {
  return `${now.getTime()}${String(randomInt(0, 1_000_000)).padStart(6, "0")}`;
}
