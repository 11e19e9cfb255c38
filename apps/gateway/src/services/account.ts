import {
  removeCard as removeBoundCard,
  renewsWith,
  resumeAutoRenew,
  setStarsSubscriptionCanceled,
  stopAutoRenew,
} from "@obuna/billing";
import {
  type BoundCard as BoundCardView,
  pickLanguage,
  type Subscription as SubscriptionView,
} from "@obuna/contracts/http";
import { formatSom } from "@obuna/contracts/money";
import { DEFAULT_RENEWAL_LEAD_HOURS, nextChargeAt } from "@obuna/contracts/schedule";
import type { BoundCard, Subscription } from "@obuna/db";
import {
  getBoundCard,
  getLatestSubscription,
  getLiveSubscription,
  getPlanById,
  getSubscriptionById,
  getUserById,
  getUserByTelegramId,
  listCardsByUser,
  listPaymentsByUser,
  planName,
  setUserLanguage,
} from "@obuna/db/queries";
import type { Caller, GatewayDeps } from "../context";
import { asResult, refuse, refuseUnlessOwner } from "./outcome";

type Deps = GatewayDeps & { metrics: NonNullable<GatewayDeps["metrics"]> };

async function userFor(deps: Deps, caller: Caller, telegramId: number) {
  const notFound = { code: "USER_NOT_FOUND", message: "No such user" } as const;
  refuseUnlessOwner(caller, telegramId, notFound);
  const user = await getUserByTelegramId(deps.db, telegramId);
  if (!user) refuse(notFound.code, notFound.message);
  return user;
}

function cardView(
  card: Pick<BoundCard, "id" | "panMasked" | "cardType" | "expiry" | "isActive" | "createdAt" | "lastUsedAt">,
): BoundCardView {
  return {
    id: card.id,
    pan_masked: card.panMasked,
    card_type: card.cardType,
    expiry: card.expiry,
    is_active: card.isActive,
    created_at: card.createdAt.toISOString(),
    last_used_at: card.lastUsedAt?.toISOString() ?? null,
  };
}

async function paymentHistoryStep(deps: Deps, caller: Caller, telegramId: number) {
  const user = await userFor(deps, caller, telegramId);
  const rows = await listPaymentsByUser(deps.db, user.id, 50);
  return {
    payments: rows.map((row) => ({
      id: row.id,
      kind: row.kind,
      status: row.status,
      amount: row.amount,
      amount_formatted: formatSom(row.amount),
      card_masked: row.cardMasked,
      plan_slug: (row.planSlug as "monthly" | null) ?? null,
      receipt_url: row.receiptUrl,
      created_at: row.createdAt.toISOString(),
    })),
  };
}

async function subscriptionView(
  deps: Deps,
  sub: Subscription,
  lang: "uz" | "ru" | "en",
): Promise<SubscriptionView> {
  const plan = (await getPlanById(deps.db, sub.planId))!;
  const card = sub.boundCardId ? await getBoundCard(deps.db, sub.boundCardId) : null;
  const usableCard = card?.isActive && card.removedAt === null ? card : null;
  const chargeAt = nextChargeAt(
    {
      status: sub.status,
      autoRenew: sub.autoRenew,
      endDate: sub.endDate,
      nextRenewalAt: sub.nextRenewalAt,
      hasUsableCard: usableCard !== null,
    },
    deps.config.renewalLeadMs ?? DEFAULT_RENEWAL_LEAD_HOURS * 3_600_000,
  );
  return {
    id: sub.id,
    plan: {
      slug: plan.slug as "monthly",
      name: planName(plan, lang),
      names: { uz: plan.nameUz, ru: plan.nameRu, en: plan.nameEn },
      price: formatSom(plan.price),
      price_raw: plan.price,
    },
    status: sub.status,
    is_active: sub.isActive,
    auto_renew: sub.autoRenew,
    start_date: sub.startDate.toISOString(),
    end_date: sub.endDate.toISOString(),
    cancelled_at: sub.cancelledAt?.toISOString() ?? null,
    renews_with: renewsWith(sub) === "card" && !usableCard ? null : renewsWith(sub),
    card: usableCard ? cardView(usableCard) : null,
    next_charge_at: chargeAt?.toISOString() ?? null,
    next_charge:
      chargeAt && usableCard
        ? {
            date: chargeAt.toISOString(),
            amount: plan.price,
            amount_formatted: formatSom(plan.price),
            card_masked: usableCard.panMasked,
          }
        : null,
  };
}

/** The user's language: the one they chose in the bot, else Telegram's `language_code`. */
function langOf(user: { language: "uz" | "ru" | "en" | null; languageCode: string | null }) {
  return user.language ?? pickLanguage(user.languageCode);
}

async function currentSubscriptionStep(deps: Deps, caller: Caller, telegramId: number) {
  const user = await userFor(deps, caller, telegramId);
  const sub =
    (await getLiveSubscription(deps.db, user.id)) ?? (await getLatestSubscription(deps.db, user.id));
  return {
    subscription: sub ? await subscriptionView(deps, sub, langOf(user)) : null,
    language: user.language,
  };
}

async function ownedSubscription(deps: Deps, caller: Caller, subscriptionId: number) {
  const sub = await getSubscriptionById(deps.db, subscriptionId);
  const notFound = { code: "SUBSCRIPTION_NOT_FOUND", message: "Subscription not found" } as const;
  if (!sub) refuse(notFound.code, notFound.message);
  const user = (await getUserById(deps.db, sub.userId))!;
  refuseUnlessOwner(caller, user.telegramId, notFound);
  return { sub, user };
}

function actorOf(caller: Caller) {
  return caller.kind === "internal" ? "bot" : `tg:${caller.telegramId}`;
}

/**
 * The stars rail's /cancel and /resume: Telegram's editUserStarSubscription, through the money core.
 * Telegram refusing or not answering changes nothing (503, try again).
 */
async function editStarsSubscription(
  deps: Deps,
  caller: Caller,
  sub: { id: number },
  user: { telegramId: number; language: "uz" | "ru" | "en" | null; languageCode: string | null },
  canceled: boolean,
) {
  if (!deps.stars) refuse("SERVICE_UNAVAILABLE", "Telegram Stars is not configured");
  const api = deps.stars;
  const outcome = await deps.db.transaction((tx) =>
    setStarsSubscriptionCanceled(tx, deps, {
      subscriptionId: sub.id,
      canceled,
      by: { actor: actorOf(caller), reason: "user request" },
      edit: async ({ starsChargeId, isCanceled }) => {
        try {
          await api.editUserStarSubscription({
            user_id: user.telegramId,
            telegram_payment_charge_id: starsChargeId,
            is_canceled: isCanceled,
          });
          return { status: "done" };
        } catch (error) {
          return { status: "refused", error: (error as Error).message };
        }
      },
    }),
  );
  if (outcome.status === "provider_refused")
    refuse("PAYMENT_PROVIDER_UNAVAILABLE", "Telegram did not change the Stars subscription");
  if (outcome.status === "not_found" || outcome.status === "refused")
    refuse("INVALID_STATE", "The subscription is not active");
  const fresh = (await getSubscriptionById(deps.db, sub.id))!;
  return { subscription: await subscriptionView(deps, fresh, langOf(user)) };
}

/** Auto-renew off; access stays until end_date. Repeating it changes nothing. */
async function cancelSubscriptionStep(deps: Deps, caller: Caller, subscriptionId: number) {
  const { sub, user } = await ownedSubscription(deps, caller, subscriptionId);
  // A Stars subscription is renewed by Telegram: canceling it is Telegram's to do.
  if (sub.rail === "stars") return editStarsSubscription(deps, caller, sub, user, true);
  const outcome = await deps.db.transaction((tx) =>
    stopAutoRenew(tx, deps, {
      subscriptionId: sub.id,
      by: { actor: actorOf(caller), reason: "user request" },
    }),
  );
  if (outcome.status === "not_found" || outcome.status === "refused")
    refuse("INVALID_STATE", "The subscription is not active");
  const fresh = (await getSubscriptionById(deps.db, sub.id))!;
  return { subscription: await subscriptionView(deps, fresh, langOf(user)) };
}

/** Auto-renew back on: needs a live subscription and a usable saved card. */
async function resumeSubscriptionStep(deps: Deps, caller: Caller, subscriptionId: number) {
  const { sub, user } = await ownedSubscription(deps, caller, subscriptionId);
  // A canceled Stars subscription is resumed at Telegram (the same rail).
  if (sub.rail === "stars" && sub.starsCanceledAt !== null)
    return editStarsSubscription(deps, caller, sub, user, false);
  const outcome = await deps.db.transaction((tx) =>
    resumeAutoRenew(tx, deps, {
      subscriptionId: sub.id,
      by: { actor: actorOf(caller), reason: "user request" },
    }),
  );
  if (outcome.status === "refused" && outcome.reason === "no_usable_card")
    refuse("CARD_NOT_FOUND", "No saved card to renew with: pay once with auto-renew on");
  if (outcome.status === "refused" && outcome.reason === "stars_renews")
    refuse(
      "INVALID_STATE",
      "Telegram Stars renews this subscription: cancel the Stars subscription first, then turn card auto-renew on",
    );
  if (outcome.status === "not_found" || outcome.status === "refused")
    refuse("INVALID_STATE", "The subscription is not active");
  const fresh = (await getSubscriptionById(deps.db, sub.id))!;
  return { subscription: await subscriptionView(deps, fresh, langOf(user)) };
}

async function listCardsStep(deps: Deps, caller: Caller, telegramId: number) {
  const user = await userFor(deps, caller, telegramId);
  const cards = await listCardsByUser(deps.db, user.id);
  return { cards: cards.map(cardView) };
}

/**
 * Removes the card at ATMOS (unless another holder needs it) and here; subscriptions that renewed
 * with it stop auto-renewing (the money core's `removeCard`).
 */
async function removeCardStep(deps: Deps, caller: Caller, telegramId: number, cardId: number) {
  const user = await userFor(deps, caller, telegramId);
  const removal = await removeBoundCard(
    deps.db,
    { cardTokenKey: deps.config.cardTokenKey, provider: deps.provider },
    {
      cardId,
      ownerUserId: user.id,
      actor: actorOf(caller),
      reason: "user request",
      notifyUser: false,
      now: deps.clock(),
    },
  );
  switch (removal.status) {
    case "removed":
      return listCardsStep(deps, caller, telegramId);
    case "not_found":
    case "already_removed":
      return refuse("CARD_NOT_FOUND", "Card not found");
    case "provider_failed":
      // Anything but "already gone" keeps the card so the removal can be retried.
      return refuse("PAYMENT_PROVIDER_UNAVAILABLE", "The card could not be removed at the bank; try again");
  }
}

/** The language the user chose (in the bot, or in the Mini App for themselves). */
async function setLanguageStep(
  deps: Deps,
  caller: Caller,
  telegramId: number,
  input: { language: "uz" | "ru" | "en"; username?: string | null; first_name?: string | null },
) {
  refuseUnlessOwner(caller, telegramId, { code: "USER_NOT_FOUND", message: "No such user" });
  const user = await setUserLanguage(deps.db, {
    telegramId,
    language: input.language,
    username: input.username ?? null,
    firstName: input.first_name ?? null,
  });
  return { language: user.language ?? input.language };
}

/** The use cases, each answering a ServiceResult (the route maps a refusal to ApiError). */
export const paymentHistory = (...args: Parameters<typeof paymentHistoryStep>) =>
  asResult(() => paymentHistoryStep(...args));
export const currentSubscription = (...args: Parameters<typeof currentSubscriptionStep>) =>
  asResult(() => currentSubscriptionStep(...args));
export const cancelSubscription = (...args: Parameters<typeof cancelSubscriptionStep>) =>
  asResult(() => cancelSubscriptionStep(...args));
export const resumeSubscription = (...args: Parameters<typeof resumeSubscriptionStep>) =>
  asResult(() => resumeSubscriptionStep(...args));
export const listCards = (...args: Parameters<typeof listCardsStep>) =>
  asResult(() => listCardsStep(...args));
export const removeCard = (...args: Parameters<typeof removeCardStep>) =>
  asResult(() => removeCardStep(...args));
export const setLanguage = (...args: Parameters<typeof setLanguageStep>) =>
  asResult(() => setLanguageStep(...args));
