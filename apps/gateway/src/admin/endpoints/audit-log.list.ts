import { AdminAuditListSchema, AdminAuditQuerySchema } from "@obuna/contracts/http";
import { createRoute, type GatewayApp, okResponse } from "../../routes/_shared";
import { auditPage } from "../reads";
import { ADMIN_TAG, type AdminGuard, adminSecurity } from "./_admin";

/** GET /api/v1/admin/audit-log */
export function registerAdminAuditLogList(app: GatewayApp, admin: AdminGuard) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/v1/admin/audit-log",
      tags: [ADMIN_TAG],
      summary: "Audit log, newest first (filter by entity, actor, action)",
      security: adminSecurity,
      middleware: [admin] as const,
      request: { query: AdminAuditQuerySchema },
      responses: okResponse(AdminAuditListSchema, "A page of audit rows"),
    }),
    async (c) =>
      c.json({ success: true as const, data: await auditPage(c.get("deps"), c.req.valid("query")) }, 200),
  );
}
