import { renewsWith } from "@obuna/billing";
import { type Entitlement, EntitlementSchema } from "@obuna/contracts/http";
import type { Plan, Subscription } from "@obuna/db";
import {
  getLatestSubscription,
  getLiveSubscription,
  getPlanById,
  getUserByTelegramId,
} from "@obuna/db/queries";
import { etag, RETAINED_304_HEADERS } from "hono/etag";
import { requireTokenScope } from "../middleware/auth";
import { bearerSecurity, createRoute, type GatewayApp, okResponse, TelegramIdParam, z } from "./_shared";

/**
 * Tells a client to keep the answer but ask again each time (with If-None-Match): premium can start
 * or end any minute, and the 304 costs one indexed lookup and no body.
 */
export const ENTITLEMENT_CACHE_CONTROL = "private, no-cache";

export const route = createRoute({
  method: "get",
  path: "/api/v1/entitlements/{telegram_id}",
  tags: ["entitlements"],
  summary: "Is the user premium now: plan, until, rail, auto-renew, grace (for host bots and other services)",
  description:
    "Needs a bearer token with the `entitlements:read` scope (SERVICE_TOKENS, or the bot's internal token). " +
    "A user who never paid, or whom the gateway never saw, is `active: false, status: none` (200, not 404). " +
    "The answer carries a strong ETag and `Cache-Control: private, no-cache`: send it back as If-None-Match " +
    "and an unchanged answer is 304 with no body. docs/integration.md.",
  security: bearerSecurity,
  middleware: [
    requireTokenScope("entitlements:read"),
    // A strong ETag over the exact body (SHA-1 of it); If-None-Match that matches → 304, no body.
    etag({ retainedHeaders: [...RETAINED_304_HEADERS, "x-request-id"] }),
  ] as const,
  request: { params: z.object({ telegram_id: TelegramIdParam }) },
  responses: {
    ...okResponse(EntitlementSchema, "The user's entitlement (ETag, Cache-Control: private, no-cache)"),
    304: { description: "Not modified: the entitlement matches If-None-Match" },
  },
});

/** What a subscription (or none) means to another service. `active` follows the subscription's status. */
export function entitlementOf(
  telegramId: number,
  latest: { subscription: Subscription; plan: Plan } | null,
): Entitlement {
  if (!latest) {
    return {
      telegram_id: telegramId,
      active: false,
      status: "none",
      plan: null,
      until: null,
      rail: null,
      auto_renew: false,
      grace: { active: false, until: null },
    };
  }
  const { subscription: sub, plan } = latest;
  // The money core ends access (expiry job, admin): active/past_due is exactly "has premium now".
  const live = sub.status === "active" || sub.status === "past_due";
  const graceUntil = sub.status === "past_due" ? (sub.graceUntil ?? sub.endDate) : null;
  return {
    telegram_id: telegramId,
    active: live,
    status: sub.status,
    plan: { slug: plan.slug, names: { uz: plan.nameUz, ru: plan.nameRu, en: plan.nameEn } },
    until: (graceUntil ?? sub.endDate).toISOString(),
    rail: sub.rail,
    // Renewed by our worker (card, auto-renew on) or by Telegram (a Stars subscription not canceled).
    auto_renew: renewsWith(sub) !== null,
    grace: { active: graceUntil !== null, until: graceUntil?.toISOString() ?? null },
  };
}

export function registerEntitlements(app: GatewayApp) {
  app.openapi(route, async (c) => {
    const { db } = c.get("deps");
    const telegramId = c.req.valid("param").telegram_id;
    const user = await getUserByTelegramId(db, telegramId);
    const sub = user
      ? ((await getLiveSubscription(db, user.id)) ?? (await getLatestSubscription(db, user.id)))
      : null;
    const plan = sub ? await getPlanById(db, sub.planId) : null;
    const data = entitlementOf(telegramId, sub && plan ? { subscription: sub, plan } : null);
    c.header("cache-control", ENTITLEMENT_CACHE_CONTROL);
    c.header("vary", "authorization");
    return c.json({ success: true as const, data }, 200);
  });
}
