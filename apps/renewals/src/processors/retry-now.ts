import { RenewalRetryNowJobSchema } from "@obuna/contracts/jobs";
import { getSubscriptionById, getUserById } from "@obuna/db/queries";
import { UnrecoverableError } from "bullmq";
import { chargeSubscription } from "../core/charge";
import { defineProcessor } from "./base";

/**
 * `renewal-retry-now`: the user pressed "retry now" in the bot after a failed renewal. Only the
 * subscription's owner may trigger it; it ignores the retry schedule but every other guard applies
 * (one open attempt per period, the unique attempt number, the card must be active).
 */
export const retryNowProcessor = defineProcessor(RenewalRetryNowJobSchema, async (ctx, data) => {
  const sub = await getSubscriptionById(ctx.db, data.subscriptionId);
  if (!sub) throw new UnrecoverableError("subscription not found");
  const user = await getUserById(ctx.db, sub.userId);
  if (!user || user.telegramId !== data.requestedByTelegramId) {
    throw new UnrecoverableError("retry-now requested by someone who does not own the subscription");
  }
  if (sub.status !== "past_due") return { status: "skipped", reason: `subscription is ${sub.status}` };
  const outcome = await chargeSubscription(
    ctx,
    { subscriptionId: sub.id, periodEnd: sub.endDate },
    { ignoreRetrySchedule: true },
  );
  if (outcome.status === "declined" && outcome.hardDecline) {
    throw new UnrecoverableError(`hard decline: the card must change (attempt ${outcome.attemptId})`);
  }
  return outcome;
});
