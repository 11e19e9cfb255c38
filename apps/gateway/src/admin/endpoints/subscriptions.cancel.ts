import { AdminActionRequestSchema, AdminSubscriptionActionResponseSchema } from "@obuna/contracts/http";
import { ApiError } from "../../errors";
import { idempotency } from "../../middleware/idempotency";
import {
  createRoute,
  type GatewayApp,
  idempotencyParameters,
  jsonBody,
  okResponse,
} from "../../routes/_shared";
import { cancelSubscriptionNow } from "../actions/cancel";
import { ADMIN_TAG, type AdminGuard, adminSecurity, idParams } from "./_admin";

/** POST /api/v1/admin/subscriptions/{id}/cancel (audited; Idempotency-Key). */
export function registerAdminSubscriptionsCancel(app: GatewayApp, admin: AdminGuard) {
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/v1/admin/subscriptions/{id}/cancel",
      tags: [ADMIN_TAG],
      summary: "Cancel a subscription now: status canceled, auto-renew off, role back to user",
      security: adminSecurity,
      middleware: [admin, idempotency] as const,
      parameters: [...idempotencyParameters],
      request: { params: idParams, body: jsonBody(AdminActionRequestSchema) },
      responses: okResponse(AdminSubscriptionActionResponseSchema, "The subscription"),
    }),
    async (c) => {
      const outcome = await cancelSubscriptionNow(c.get("deps"), c.get("admin"), {
        subscriptionId: c.req.valid("param").id,
        reason: c.req.valid("json").reason,
      });
      switch (outcome.status) {
        case "not_found":
          throw new ApiError("SUBSCRIPTION_NOT_FOUND", "Subscription not found");
        case "refused":
          throw new ApiError("INVALID_STATE", `The subscription is already ${outcome.current}`);
        case "canceled":
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
