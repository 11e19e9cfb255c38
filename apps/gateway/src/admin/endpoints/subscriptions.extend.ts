import { AdminExtendRequestSchema, AdminSubscriptionActionResponseSchema } from "@obuna/contracts/http";
import { ApiError } from "../../errors";
import { idempotency } from "../../middleware/idempotency";
import {
  createRoute,
  type GatewayApp,
  idempotencyParameters,
  jsonBody,
  okResponse,
} from "../../routes/_shared";
import { extendSubscription } from "../actions/extend";
import { ADMIN_TAG, type AdminGuard, adminSecurity, idParams } from "./_admin";

/** POST /api/v1/admin/subscriptions/{id}/extend (audited; Idempotency-Key). */
export function registerAdminSubscriptionsExtend(app: GatewayApp, admin: AdminGuard) {
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/v1/admin/subscriptions/{id}/extend",
      tags: [ADMIN_TAG],
      summary: "Extend a live subscription by N days",
      security: adminSecurity,
      middleware: [admin, idempotency] as const,
      parameters: [...idempotencyParameters],
      request: { params: idParams, body: jsonBody(AdminExtendRequestSchema) },
      responses: okResponse(AdminSubscriptionActionResponseSchema, "The subscription"),
    }),
    async (c) => {
      const body = c.req.valid("json");
      const outcome = await extendSubscription(c.get("deps"), c.get("admin"), {
        subscriptionId: c.req.valid("param").id,
        days: body.days,
        reason: body.reason,
      });
      switch (outcome.status) {
        case "not_found":
          throw new ApiError("SUBSCRIPTION_NOT_FOUND", "Subscription not found");
        case "refused":
          throw new ApiError(
            "INVALID_STATE",
            `Only a live subscription can be extended (this one is ${outcome.current})`,
          );
        case "extended":
          return c.json(
            {
              success: true as const,
              data: { subscription: outcome.subscription, audit_id: outcome.auditId },
            },
            200,
          );
      }
    },
  );
}
