import { AdminPaymentListSchema, AdminPaymentsQuerySchema } from "@obuna/contracts/http";
import { createRoute, type GatewayApp, okResponse } from "../../routes/_shared";
import { paymentsPage } from "../reads";
import { ADMIN_TAG, type AdminGuard, adminSecurity } from "./_admin";

/** GET /api/v1/admin/payments */
export function registerAdminPaymentsList(app: GatewayApp, admin: AdminGuard) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/v1/admin/payments",
      tags: [ADMIN_TAG],
      summary: "Payments (filter by status, kind; search Telegram id, username, card mask)",
      security: adminSecurity,
      middleware: [admin] as const,
      request: { query: AdminPaymentsQuerySchema },
      responses: okResponse(AdminPaymentListSchema, "A page of payments"),
    }),
    async (c) =>
      c.json({ success: true as const, data: await paymentsPage(c.get("deps"), c.req.valid("query")) }, 200),
  );
}
