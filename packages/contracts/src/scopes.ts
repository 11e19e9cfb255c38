/**
 * What a bearer token may do at the gateway, named per endpoint family. Our bot's INTERNAL_API_TOKEN
 * holds all of them; a SERVICE_TOKENS token holds the ones the operator lists for it. Paying
 * (`/checkout/*`) and removing a card are never among them: those need the user's own signed Telegram
 * identity, so a leaked token cannot pay or unbind for anyone.
 */
export const TOKEN_SCOPES = [
  /** GET /entitlements/{id}: is the user premium now (host bots, other services). */
  "entitlements:read",
  /** POST /payment/create-link: a payment link for a user (the /premium offer). */
  "links:create",
  /** GET /payment/session/{id}. */
  "session:read",
  /** GET /user/{id}/subscription. */
  "subscription:read",
  /** POST /subscription/{id}/cancel and /resume: auto-renew off and on. */
  "subscription:manage",
  /** GET /user/{id}/payments. */
  "payments:read",
  /** GET /user/{id}/cards. */
  "cards:read",
  /** PUT /user/{id}/language: the language chosen in the bot. */
  "user:language",
  /**
   * /api/v1/stars/*: Stars invoice links for a session, the pre-checkout check, and relaying
   * Telegram's successful_payment / refunded_payment (the money is Telegram's word, sent by our bot).
   */
  "stars:pay",
] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

/**
 * The scopes the `@obuna/grammy` plugin uses (ctx.premium, /premium, /status, /payments, /cancel,
 * /resume): what an operator grants a host bot's token.
 */
export const HOST_BOT_SCOPES: readonly TokenScope[] = [
  "entitlements:read",
  "links:create",
  "subscription:read",
  "subscription:manage",
  "payments:read",
  "stars:pay",
];
