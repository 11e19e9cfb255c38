import { AdminUserListSchema, AdminUsersQuerySchema } from "@obuna/contracts/http";
import { createRoute, type GatewayApp, okResponse } from "../../routes/_shared";
import { usersPage } from "../reads";
import { ADMIN_TAG, type AdminGuard, adminSecurity } from "./_admin";

/** GET /api/v1/admin/users */
export function registerAdminUsersList(app: GatewayApp, admin: AdminGuard) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/v1/admin/users",
      tags: [ADMIN_TAG],
      summary: "Users (filter by role; search Telegram id, username)",
      security: adminSecurity,
      middleware: [admin] as const,
      request: { query: AdminUsersQuerySchema },
      responses: okResponse(AdminUserListSchema, "A page of users"),
    }),
    async (c) =>
      c.json({ success: true as const, data: await usersPage(c.get("deps"), c.req.valid("query")) }, 200),
  );
}
