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
