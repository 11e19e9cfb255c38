import { AdminActionRequestSchema, AdminSubscriptionActionResponseSchema } from "@obuna/contracts/http";
import { idempotency } from "../../middleware/idempotency";
import { createRoute, type GatewayApp, idempotencyHeader, jsonBody, okResponse } from "../../routes/_shared";
import { cancelSubscriptionNow } from "../service";
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
      request: { headers: idempotencyHeader, params: idParams, body: jsonBody(AdminActionRequestSchema) },
      responses: okResponse(AdminSubscriptionActionResponseSchema, "The subscription"),
    }),
    async (c) => {
      const data = await cancelSubscriptionNow(
        c.get("deps"),
        c.get("admin"),
        c.req.valid("param").id,
        c.req.valid("json").reason,
      );
      return c.json({ success: true as const, data }, 200);
    },
  );
}
