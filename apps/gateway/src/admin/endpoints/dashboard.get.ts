import { AdminDashboardSchema } from "@obuna/contracts/http";
import { createRoute, type GatewayApp, okResponse } from "../../routes/_shared";
import { dashboard } from "../reads";
import { ADMIN_TAG, type AdminGuard, adminSecurity } from "./_admin";

/** GET /api/v1/admin/dashboard */
export function registerAdminDashboard(app: GatewayApp, admin: AdminGuard) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/v1/admin/dashboard",
      tags: [ADMIN_TAG],
      summary: "Active subscriptions, MRR, renewals, payments today, stuck sessions, unknown outcomes",
      security: adminSecurity,
      middleware: [admin] as const,
      responses: okResponse(AdminDashboardSchema, "The dashboard figures"),
    }),
    async (c) => c.json({ success: true as const, data: await dashboard(c.get("deps")) }, 200),
  );
}
