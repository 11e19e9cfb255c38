import { RenewalChargeJobSchema } from "@obuna/contracts/jobs";
import { UnrecoverableError } from "bullmq";
import { chargeSubscription } from "../core/charge";
import { defineProcessor } from "./base";

/** `renewal-charge`: one subscription, one period. Retries only what charged nothing. */
export const chargeProcessor = defineProcessor(RenewalChargeJobSchema, async (ctx, data) => {
  const outcome = await chargeSubscription(ctx, {
    subscriptionId: data.subscriptionId,
    periodEnd: new Date(data.periodEnd),
  });
  if (outcome.status === "declined" && outcome.hardDecline) {
    throw new UnrecoverableError(`hard decline: the card must change (attempt ${outcome.attemptId})`);
  }
  if (outcome.status === "not_charged") {
    if (!outcome.retryable) throw new UnrecoverableError(`not charged: ${outcome.error}`);
    throw new Error(`not charged, will retry: ${outcome.error}`);
  }
  return outcome;
});
