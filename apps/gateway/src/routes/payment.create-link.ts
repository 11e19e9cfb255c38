import { CreateLinkRequestSchema, CreateLinkResponseSchema, pickLanguage } from "@obuna/contracts/http";
import { createSessionForTelegramUser } from "@obuna/db/queries";
import { ApiError } from "../errors";
import { requireInternal, requireScope } from "../middleware/auth";
import { idempotency } from "../middleware/idempotency";
import { DEFAULT_ABUSE_LIMITS, LINKS_WINDOW_S, rateLimited } from "../middleware/rate-limit";
import { DEFAULT_SESSION_TTL_MS } from "../services/checkout/session";
import { planSummary } from "../services/checkout/views";
import {
  bearerSecurity,
  createRoute,
  type GatewayApp,
  idempotencyParameters,
  jsonBody,
  okResponse,
  z,
} from "./_shared";

// An unknown slug is a 404 PLAN_NOT_FOUND rather than a validation error.
const RequestSchema = CreateLinkRequestSchema.extend({ plan_slug: z.string().min(1).max(64) });

export const route = createRoute({
  method: "post",
  path: "/api/v1/payment/create-link",
  tags: ["payment"],
  summary: "Create a 30-minute payment session and its Mini App link (bot only)",
  security: bearerSecurity,
  middleware: [requireInternal, requireScope("links:create"), idempotency] as const,
  parameters: [...idempotencyParameters],
  request: { body: jsonBody(RequestSchema) },
  responses: okResponse(CreateLinkResponseSchema, "The payment session"),
});

export function registerCreateLink(app: GatewayApp) {
  app.openapi(route, async (c) => {
    const input = c.req.valid("json");
    const deps = c.get("deps");
    const now = deps.clock();
    const expiresAt = new Date(now.getTime() + (deps.config.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS));
    const session = await createSessionForTelegramUser(deps.db, {
      telegramId: input.telegram_id,
      username: input.username ?? null,
      firstName: input.first_name ?? null,
      languageCode: input.language_code ?? null,
      language: input.language ?? null,
      planSlug: input.plan_slug,
      expiresAt,
      now,
      linkLimit: {
        max: deps.config.rateLimits?.linksPerUserPerHour ?? DEFAULT_ABUSE_LIMITS.linksPerUserPerHour,
        windowS: LINKS_WINDOW_S,
      },
    });
    if (!session) throw new ApiError("PLAN_NOT_FOUND", "No such plan", { field: "plan_slug" });
    if ("limited" in session) throw rateLimited(c, "links_user", session.retryAfterMs);
    const { plan } = session;
    const base = deps.config.miniappUrl.replace(/\/+$/, "");
    return c.json(
      {
        success: true as const,
        data: {
          session_id: session.id,
          payment_url: `${base}/?session_id=${session.id}`,
          expires_at: session.expiresAt.toISOString(),
          plan: planSummary(plan, session.language ?? pickLanguage(input.language_code)),
        },
      },
      200,
    );
  });
}
