import { AdminPlanListSchema } from "@obuna/contracts/http";
import { createRoute, type GatewayApp, okResponse } from "../../routes/_shared";
import { listPlansForAdmin } from "../plans";
import { ADMIN_TAG, type AdminGuard, adminSecurity } from "./_admin";

/** GET /api/v1/admin/plans */
export function registerAdminPlansList(app: GatewayApp, admin: AdminGuard) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/v1/admin/plans",
      tags: [ADMIN_TAG],
      summary: "Every plan (active or not) with its live subscriptions, by sort order",
      security: adminSecurity,
      middleware: [admin] as const,
      responses: okResponse(AdminPlanListSchema, "The plans"),
    }),
    async (c) => c.json({ success: true as const, data: await listPlansForAdmin(c.get("deps")) }, 200),
  );
}
