import { SubscriptionResponseSchema } from "@obuna/contracts/http";
import { orApiError } from "../errors";
import { requireCaller, requireScope } from "../middleware/auth";
import { currentSubscription } from "../services/account";
import { createRoute, eitherSecurity, type GatewayApp, okResponse, TelegramIdParam, z } from "./_shared";

export const route = createRoute({
  method: "get",
  path: "/api/v1/user/{telegram_id}/subscription",
  tags: ["user"],
  summary: "The live (or latest) subscription; null for a user who never paid",
  security: eitherSecurity,
  middleware: [requireCaller, requireScope("subscription:read")] as const,
  request: { params: z.object({ telegram_id: TelegramIdParam }) },
  responses: okResponse(SubscriptionResponseSchema, "Subscription"),
});

export function registerUserSubscription(app: GatewayApp) {
  app.openapi(route, async (c) => {
    const data = orApiError(
      await currentSubscription(c.get("deps"), c.get("caller"), c.req.valid("param").telegram_id),
    );
    return c.json({ success: true as const, data }, 200);
  });
}
