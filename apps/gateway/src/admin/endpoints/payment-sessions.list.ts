import { AdminPaymentSessionListSchema, AdminPaymentSessionsQuerySchema } from "@obuna/contracts/http";
import { createRoute, type GatewayApp, okResponse } from "../../routes/_shared";
import { paymentSessionsPage } from "../reads";
import { ADMIN_TAG, type AdminGuard, adminSecurity } from "./_admin";

/** GET /api/v1/admin/payment-sessions */
export function registerAdminPaymentSessionsList(app: GatewayApp, admin: AdminGuard) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/v1/admin/payment-sessions",
      tags: [ADMIN_TAG],
      summary: "Payment sessions (filter by status; search Telegram id, username, card mask)",
      security: adminSecurity,
      middleware: [admin] as const,
      request: { query: AdminPaymentSessionsQuerySchema },
      responses: okResponse(AdminPaymentSessionListSchema, "A page of sessions"),
    }),
    async (c) =>
      c.json(
        { success: true as const, data: await paymentSessionsPage(c.get("deps"), c.req.valid("query")) },
        200,
      ),
  );
}
