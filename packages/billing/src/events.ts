import { randomUUID } from "node:crypto";
import {
  type PremiumEndReason,
  type PremiumEvent,
  PremiumEventSchema,
  type PremiumEventType,
} from "@obuna/contracts/events";
import type { Subscription, Transaction } from "@obuna/db";
import { getSubscriptionForEvent, insertPremiumEvent } from "@obuna/db/queries";
import type { BillingDeps } from "./deps";
import { renewsWith } from "./rails";

/**
 * The signed events outbox (docs/integration.md "Signed events"). Each subscription transition
 * records its event here, in its own transaction, after its writes: the payload is the subscription
 * as the change left it. One event per (type, subscription, period): `period` names the period the
 * change belongs to (its end date, or the refunded period), so a transition that runs again for the
 * same period records nothing new, and a transaction that rolls back takes its event with it.
 * The renewals worker delivers them (events-relay, event-delivery jobs).
 */
export async function recordPremiumEvent(
  tx: Transaction,
  deps: BillingDeps,
  input: {
    type: PremiumEventType;
    subscriptionId: number;
    /** The period's identity in the dedupe key; default the subscription's end date as the change left it. */
    period?: Date | string;
    reason?: PremiumEndReason;
    /** Record it only for a subscription that gives access now (a change that also touches ended ones). */
    onlyIfLive?: boolean;
    /**
     * The subscription as this transaction's change left it, with its plan's slug and its holder's
     * Telegram id, when the caller holds them (its row is locked and it knows what it wrote): saves
     * reading them again. Without it they are read.
     */
    known?: { subscription: Subscription; planSlug: string; telegramId: number };
  },
): Promise<string | null> {
  const found = input.known ?? (await getSubscriptionForEvent(tx, input.subscriptionId));
  if (!found) throw new Error(`subscription ${input.subscriptionId} missing for ${input.type}`);
  if (found.subscription.id !== input.subscriptionId)
    throw new Error(
      `event for subscription ${input.subscriptionId} given subscription ${found.subscription.id}`,
    );
  const { subscription: sub } = found;
  if (input.onlyIfLive && sub.status !== "active" && sub.status !== "past_due") return null;
  const now = deps.clock();
  const live = sub.status === "active" || sub.status === "past_due";
  const graceUntil = sub.status === "past_due" ? (sub.graceUntil ?? sub.endDate) : null;
  const id = randomUUID();
  const payload: PremiumEvent = PremiumEventSchema.parse({
    id,
    type: input.type,
    created_at: now.toISOString(),
    telegram_id: found.telegramId,
    subscription: {
      id: sub.id,
      plan: found.planSlug,
      status: sub.status,
      active: live,
      until: (graceUntil ?? sub.endDate).toISOString(),
      auto_renew: renewsWith(sub) !== null,
      rail: sub.rail,
    },
    ...(input.reason ? { reason: input.reason } : {}),
  });
  const period =
    typeof input.period === "string" ? input.period : String((input.period ?? sub.endDate).getTime());
  return insertPremiumEvent(tx, {
    id,
    type: input.type,
    dedupeKey: `${input.type}:${sub.id}:${period}`,
    telegramId: found.telegramId,
    subscriptionId: sub.id,
    payload,
    createdAt: now,
  });
}
