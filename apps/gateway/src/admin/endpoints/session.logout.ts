import { AdminLogoutResponseSchema } from "@obuna/contracts/http";
import { deleteAdminSession } from "@obuna/db/queries";
import { createRoute, type GatewayApp, okResponse } from "../../routes/_shared";
import { ADMIN_TAG, type AdminGuard, adminSecurity } from "./_admin";

/** POST /api/v1/admin/logout — ends the Bearer session token on the server. */
export function registerAdminSessionLogout(app: GatewayApp, admin: AdminGuard) {
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/v1/admin/logout",
      tags: [ADMIN_TAG],
      summary: "End the Bearer session token on the server (a copy of it stops working at once)",
      security: adminSecurity,
      middleware: [admin] as const,
      responses: okResponse(AdminLogoutResponseSchema, "Whether a live session was ended"),
    }),
    async (c) => {
      const who = c.get("admin");
      const deps = c.get("deps");
      const ended = who.sessionId ? await deleteAdminSession(deps.db, who.sessionId) : false;
      deps.logger.info({ actor: who.actor, ended }, "admin signed out");
      return c.json({ success: true as const, data: { ended } }, 200);
    },
  );
}
