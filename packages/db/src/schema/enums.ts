import { pgEnum } from "drizzle-orm/pg-core";

export const userRole = pgEnum("user_role", ["user", "premium", "admin"]);
/** The languages Obuna speaks (bot, Mini App, notifications). */
export const userLanguage = pgEnum("user_language", ["uz", "ru", "en"]);
export const paymentSessionStatus = pgEnum("payment_session_status", [
  "pending",
  "processing",
  "completed",
  "failed",
  "expired",
]);
export const paymentProvider = pgEnum("payment_provider", ["atmos", "telegram_stars"]);
/** How a subscription renews: a saved card (ATMOS, our renewals worker) or a Telegram Stars subscription (Telegram). */
export const subscriptionRail = pgEnum("subscription_rail", ["card", "stars"]);
export const paymentKind = pgEnum("payment_kind", ["initial", "renewal"]);
export const paymentStatus = pgEnum("payment_status", [
  "pending",
  "success",
  "failed",
  "unknown",
  "reversed",
]);
export const cardType = pgEnum("card_type", ["uzcard", "humo", "visa", "mastercard"]);
/**
 * A saved card's life (the diagram atop packages/billing/src/cards.ts): active → deactivated ⇄ active; active |
 * deactivated → removed → erased (token dropped). A new payment that charged the same card makes
 * any of them active again, with the new binding's token. Written only by @obuna/billing cards.ts.
 */
export const boundCardStatus = pgEnum("bound_card_status", ["active", "deactivated", "removed", "erased"]);
export const subscriptionStatus = pgEnum("subscription_status", [
  "active",
  "past_due",
  "canceled",
  "expired",
]);
export const renewalAttemptStatus = pgEnum("renewal_attempt_status", [
  "pending",
  "success",
  "failed",
  "unknown",
]);
