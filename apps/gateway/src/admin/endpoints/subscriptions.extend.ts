import { AdminExtendRequestSchema, AdminSubscriptionActionResponseSchema } from "@obuna/contracts/http";
import { idempotency } from "../../middleware/idempotency";
import { createRoute, type GatewayApp, idempotencyHeader, jsonBody, okResponse } from "../../routes/_shared";
import { extendSubscription } from "../service";
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
      request: { headers: idempotencyHeader, params: idParams, body: jsonBody(AdminExtendRequestSchema) },
      responses: okResponse(AdminSubscriptionActionResponseSchema, "The subscription"),
    }),
    async (c) => {
      const body = c.req.valid("json");
      const data = await extendSubscription(
        c.get("deps"),
        c.get("admin"),
        c.req.valid("param").id,
        body.days,
        body.reason,
      );
      return c.json({ success: true as const, data }, 200);
    },
  );
}
