import { AdminSubscriptionListSchema, AdminSubscriptionsQuerySchema } from "@obuna/contracts/http";
import { createRoute, type GatewayApp, okResponse } from "../../routes/_shared";
import { subscriptionsPage } from "../reads";
import { ADMIN_TAG, type AdminGuard, adminSecurity } from "./_admin";

/** GET /api/v1/admin/subscriptions */
export function registerAdminSubscriptionsList(app: GatewayApp, admin: AdminGuard) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/v1/admin/subscriptions",
      tags: [ADMIN_TAG],
      summary: "Subscriptions (filter by status, auto_renew; search Telegram id, username, card mask)",
      security: adminSecurity,
      middleware: [admin] as const,
      request: { query: AdminSubscriptionsQuerySchema },
      responses: okResponse(AdminSubscriptionListSchema, "A page of subscriptions"),
    }),
    async (c) =>
      c.json(
        { success: true as const, data: await subscriptionsPage(c.get("deps"), c.req.valid("query")) },
        200,
      ),
  );
}
