import type { Database } from "@obuna/db";
import { findStuckPaymentSessions, getPaymentSession } from "@obuna/db/queries";
import { activateSessionCard, type CardDeps } from "./cards";
import { type BillingDeps, isUniqueViolation } from "./deps";
import {
  type ChargeState,
  completeSessionPayment,
  failSessionPayment,
  markSessionPaymentUnknown,
  resolveSessionCharge,
  type SessionCompletion,
} from "./payments";

/**
 * Settling a first payment once the provider has said what happened to its charge. One place for
 * the gateway (apply answer, GET session, callback) and the renewals worker's stuck-session job.
 */

/** What the provider says of a session's charge (ATMOS `get`, or the apply answer). */
export interface SessionChargeReading {
  /** The provider's id of the charge, as text (ATMOS transaction_id). */
  externalId: string;
  state: ChargeState;
  /** The provider's id of the settled charge, as text (ATMOS success_trans_id). */
  settlementId: string | null;
  /** Fiscal receipt link; null = charged without a receipt. */
  ofdUrl: string | null;
  /** The provider's id (or masked number) of the card it charged. */
  cardId: string | null;
}

/** The provider asked for a charge: its reading, `not_found` (it never had it), or null (no answer). */
export type ReadCharge = (externalId: string) => Promise<SessionChargeReading | "not_found" | null>;

export type SettlementDeps = BillingDeps &
  CardDeps & {
    /** A charge the provider confirmed on another card than the session bound (logged by the app). */
    onCardRefused?: (info: { sessionId: string; externalId: string; chargedCard: string | null }) => void;
  };

/**
 * complete a session whose charge the provider reports confirmed, exactly once (the session's row
 * lock decides), in one transaction: the session's card made the user's only if it is the card
 * charged. Two first payments of one user can race to create the subscription: the unique index
 * refuses one, which then extends the other's subscription on retry.
 */
export async function settleConfirmedSession(
  db: Database,
  deps: SettlementDeps,
  input: { sessionId: string; charge: SessionChargeReading; source: string; actor: string },
): Promise<SessionCompletion> {
  const { charge } = input;
  if (charge.state !== "confirmed") {
    throw new Error(`settleConfirmedSession: transaction ${charge.externalId} is ${charge.state}`);
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction((tx) =>
        completeSessionPayment(tx, deps, {
          sessionId: input.sessionId,
          charge: {
            externalId: charge.externalId,
            settlementId: charge.settlementId,
            receiptUrl: charge.ofdUrl,
          },
          source: input.source,
          actor: input.actor,
          activateCard: async (session, now) => {
            const activation = await activateSessionCard(tx, deps, {
              session,
              externalId: charge.externalId,
              chargedCardRef: charge.cardId,
              actor: input.actor,
              now,
            });
            if (activation.status === "activated") return activation.boundCardId;
            if (activation.status === "refused")
              deps.onCardRefused?.({
                sessionId: session.id,
                externalId: charge.externalId,
                chargedCard: activation.chargedCard,
              });
            return null;
          },
        }),
      );
    } catch (error) {
      if (isUniqueViolation(error) && attempt < 3) continue;
      throw error;
    }
  }
}

export interface StuckSessionResult {
  sessionId: string;
  outcome: "completed" | "failed" | "unknown";
  /** Outbox ids to flush after the commit (a completion's receipt message). */
  notificationIds: string[];
}

/**
 * Finishes payment sessions left in `processing` (an unclear apply whose client went away and no
 * callback came): the provider is asked, and the session completes (exactly once) or fails. A
 * charge the provider still reports unconfirmed after `giveUpAfterMs`, or does not know at all,
 * ends `failed` with its payment `failed`: only our apply can confirm it, and ours has ended.
 * Run by the renewals worker's `stuck-session-recheck` job (once per cluster).
 */
export async function recheckStuckSessions(
  db: Database,
  deps: SettlementDeps & { readCharge: ReadCharge; actor: string },
  options: { recheckAfterMs?: number; giveUpAfterMs?: number; limit?: number } = {},
): Promise<StuckSessionResult[]> {
  const now = deps.clock();
  const recheckAfter = options.recheckAfterMs ?? 5 * 60_000;
  const giveUpAfter = options.giveUpAfterMs ?? 30 * 60_000;
  const stuck = await findStuckPaymentSessions(db, {
    updatedBefore: new Date(now.getTime() - recheckAfter),
    limit: options.limit ?? 100,
  });
  const results: StuckSessionResult[] = [];
  for (const { id } of stuck) results.push(await recheckOne(db, deps, id, now, giveUpAfter));
  return results;
}

async function recheckOne(
  db: Database,
  deps: SettlementDeps & { readCharge: ReadCharge; actor: string },
  sessionId: string,
  now: Date,
  giveUpAfterMs: number,
): Promise<StuckSessionResult> {
  const session = await getPaymentSession(db, sessionId);
  if (session?.status !== "processing") return { sessionId, outcome: "unknown", notificationIds: [] };
  const reading = session.externalId === null ? "not_found" : await deps.readCharge(session.externalId);
  if (reading !== null && reading !== "not_found") {
    const resolution = resolveSessionCharge(reading.state);
    if (resolution.next === "complete") {
      const done = await settleConfirmedSession(db, deps, {
        sessionId,
        charge: reading,
        source: "reconcile",
        actor: deps.actor,
      });
      return {
        sessionId,
        outcome: "completed",
        notificationIds: done.status === "completed" ? done.notificationIds : [],
      };
    }
    if (resolution.next === "fail") {
      await db.transaction((tx) =>
        failSessionPayment(tx, deps, { sessionId, reason: resolution.reason, message: resolution.message }),
      );
      return { sessionId, outcome: "failed", notificationIds: [] };
    }
  }
  // Not settled: record the unknown outcome, and give up on a charge that was never confirmed.
  await markSessionPaymentUnknown(db, deps, { sessionId });
  const neverConfirmed =
    reading === "not_found" ||
    (reading !== null &&
      (reading.state === "created" ||
        reading.state === "pre_applied" ||
        reading.state === "awaiting_confirmation"));
  if (!neverConfirmed || now.getTime() - session.updatedAt.getTime() < giveUpAfterMs)
    return { sessionId, outcome: "unknown", notificationIds: [] };
  await db.transaction((tx) =>
    failSessionPayment(tx, deps, {
      sessionId,
      reason: "never_confirmed",
      message: "ATMOS never confirmed the transaction",
      audit: {
        actor: deps.actor,
        reason: "maintenance: ATMOS never confirmed the transaction",
        details: { transactionId: session.externalId },
      },
    }),
  );
  return { sessionId, outcome: "failed", notificationIds: [] };
}
