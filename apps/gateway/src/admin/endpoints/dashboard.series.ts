import { AdminDashboardSeriesQuerySchema, AdminDashboardSeriesSchema } from "@obuna/contracts/http";
import { createRoute, type GatewayApp, okResponse } from "../../routes/_shared";
import { dashboardSeries } from "../dashboard-series";
import { ADMIN_TAG, type AdminGuard, adminSecurity } from "./_admin";

/** GET /api/v1/admin/dashboard/series?days=30|90 */
export function registerAdminDashboardSeries(app: GatewayApp, admin: AdminGuard) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/v1/admin/dashboard/series",
      tags: [ADMIN_TAG],
      summary:
        "Daily revenue, renewal success and dunning recoveries, active subscribers, churn 30/90 days, by rail and plan",
      security: adminSecurity,
      middleware: [admin] as const,
      request: { query: AdminDashboardSeriesQuerySchema },
      responses: okResponse(AdminDashboardSeriesSchema, "The series"),
    }),
    async (c) => {
      const deps = c.get("deps");
      const { days } = c.req.valid("query");
      const data = await dashboardSeries(deps.db, deps.clock(), days as 30 | 90);
      return c.json({ success: true as const, data }, 200);
    },
  );
}
