import {
  cancelStarsRenewalForCard,
  type StarsBotApi,
  type StarsCallResult,
  type StarsRenewalHandover,
} from "@obuna/billing";
import { listSubscriptionsOwingStarsCancel } from "@obuna/db/queries";
import type { GatewayDeps } from "../context";
import { BotApiError } from "../telegram-bot-api";
import { flushNotifications } from "./notifications";

/**
 * One subscription per user whatever the rail (docs/stars.md): when a card payment with auto-renew
 * took over a subscription Telegram renewed with Stars, Telegram is told to stop renewing it
 * (`editUserStarSubscription`, is_canceled true). Called after the card payment committed, never
 * inside its transaction; it never fails the card payment: what Telegram does not confirm is
 * audited, alerted, and stays owed for `pnpm reconcile --stars` to try again.
 */

type Deps = Pick<GatewayDeps, "db" | "stars" | "clock" | "logger"> &
  Partial<Pick<GatewayDeps, "notificationsQueue">>;

/** A Bot API answer as a call result: a 4xx is Telegram's "no"; no answer, 429 or 5xx is unclear. */
function callResultOf(error: unknown): StarsCallResult {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof BotApiError && error.errorCode !== null && error.errorCode >= 400) {
    const definite = error.errorCode < 500 && error.errorCode !== 429;
    return { status: definite ? "refused" : "unknown", error: message };
  }
  return { status: "unknown", error: message };
}

/** editUserStarSubscription(is_canceled: true), asked once more when the first answer is unclear. */
function cancelAtTelegram(api: StarsBotApi, telegramId: number) {
  return async ({ starsChargeId }: { starsChargeId: string }): Promise<StarsCallResult> => {
    let result: StarsCallResult = { status: "unknown", error: "not called" };
    for (let attempt = 1; attempt <= 2; attempt++) {
      try {
        await api.editUserStarSubscription({
          user_id: telegramId,
          telegram_payment_charge_id: starsChargeId,
          is_canceled: true,
        });
        return { status: "done" };
      } catch (error) {
        result = callResultOf(error);
        if (result.status === "refused") return result;
      }
    }
    return result;
  };
}

/**
 * The handover for one subscription, if it owes one. Most card payments owe nothing: one indexed
 * read, no transaction, no call to Telegram.
 */
export async function handOverStarsRenewal(
  deps: Deps,
  subscriptionId: number,
  actor = "gateway",
): Promise<StarsRenewalHandover> {
  const [owing] = await listSubscriptionsOwingStarsCancel(deps.db, { subscriptionId });
  if (!owing) return { status: "nothing_owed" };
  const api = deps.stars;
  if (!api) {
    deps.logger.error({ subscriptionId }, "a Stars renewal to cancel, but Telegram Stars is not configured");
    return { status: "nothing_owed" };
  }
  const outcome = await deps.db.transaction((tx) =>
    cancelStarsRenewalForCard(tx, deps, {
      subscriptionId,
      actor,
      edit: cancelAtTelegram(api, owing.telegramId),
    }),
  );
  if (outcome.status === "canceled")
    deps.logger.info({ subscriptionId }, "Stars renewal canceled at Telegram: the card renews now");
  if (outcome.status === "failed") {
    deps.logger.error(
      { subscriptionId, result: outcome.result, err: outcome.error },
      "Telegram did not confirm canceling the Stars renewal: audited, admin alerted, owed for reconcile",
    );
    // Without a queue (the reconcile command) the alert stays in the outbox for the worker's relay.
    if (deps.notificationsQueue)
      await flushNotifications(
        { ...deps, notificationsQueue: deps.notificationsQueue },
        outcome.notificationIds,
      );
  }
  return outcome;
}

/**
 * After a first card payment committed: the one call payment-flow makes. Never throws (the card
 * payment is done); a failure here leaves the subscription owing the cancel, which reconcile retries.
 */
export async function afterCardPayment(deps: Deps, subscriptionId: number): Promise<void> {
  try {
    await handOverStarsRenewal(deps, subscriptionId);
  } catch (error) {
    deps.logger.error(
      { subscriptionId, err: (error as Error).message },
      "Stars renewal handover failed: owed for reconcile",
    );
  }
}

/**
 * Reconcile's part: every live subscription still owing a Stars cancel is tried again; those
 * Telegram still does not confirm are returned for the report.
 */
export async function retryOwedStarsCancels(deps: Deps) {
  const owing = await listSubscriptionsOwingStarsCancel(deps.db);
  const left: Array<{ subscriptionId: number; chargeId: string; error: string }> = [];
  for (const row of owing) {
    const outcome = await handOverStarsRenewal(deps, row.subscriptionId, "system:reconcile");
    if (outcome.status === "failed")
      left.push({ subscriptionId: row.subscriptionId, chargeId: row.starsChargeId, error: outcome.error });
  }
  return { tried: owing.length, left };
}
