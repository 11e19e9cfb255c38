import { SubscriptionResponseSchema } from "@obuna/contracts/http";
import { orApiError } from "../errors";
import { requireCaller, requireScope } from "../middleware/auth";
import { idempotency } from "../middleware/idempotency";
import { cancelSubscription, resumeSubscription } from "../services/account";
import {
  createRoute,
  eitherSecurity,
  type GatewayApp,
  IdParam,
  idempotencyParameters,
  okResponse,
  z,
} from "./_shared";

const params = z.object({ id: IdParam("id") });

export const cancelRoute = createRoute({
  method: "post",
  path: "/api/v1/subscription/{id}/cancel",
  tags: ["subscription"],
  summary: "Turn auto-renew off (cancelled_at set); access stays until end_date",
  security: eitherSecurity,
  middleware: [requireCaller, requireScope("subscription:manage"), idempotency] as const,
  parameters: [...idempotencyParameters],
  request: { params },
  responses: okResponse(SubscriptionResponseSchema, "The subscription"),
});

export const resumeRoute = createRoute({
  method: "post",
  path: "/api/v1/subscription/{id}/resume",
  tags: ["subscription"],
  summary: "Turn auto-renew back on (needs a saved card)",
  security: eitherSecurity,
  middleware: [requireCaller, requireScope("subscription:manage"), idempotency] as const,
  parameters: [...idempotencyParameters],
  request: { params },
  responses: okResponse(SubscriptionResponseSchema, "The subscription"),
});

export function registerSubscriptionCancelResume(app: GatewayApp) {
  app.openapi(cancelRoute, async (c) => {
    const data = orApiError(
      await cancelSubscription(c.get("deps"), c.get("caller"), c.req.valid("param").id),
    );
    return c.json({ success: true as const, data }, 200);
  });
  app.openapi(resumeRoute, async (c) => {
    const data = orApiError(
      await resumeSubscription(c.get("deps"), c.get("caller"), c.req.valid("param").id),
    );
    return c.json({ success: true as const, data }, 200);
  });
}
