import { AdminMeResponseSchema } from "@obuna/contracts/http";
import { createRoute, type GatewayApp, okResponse } from "../../routes/_shared";
import { ADMIN_TAG, type AdminGuard, adminSecurity } from "./_admin";

/** GET /api/v1/admin/me */
export function registerAdminMe(app: GatewayApp, admin: AdminGuard) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/v1/admin/me",
      tags: [ADMIN_TAG],
      summary: "Who the admin credentials belong to",
      security: adminSecurity,
      middleware: [admin] as const,
      responses: okResponse(AdminMeResponseSchema, "The admin identity"),
    }),
    (c) => {
      const who = c.get("admin");
      return c.json(
        {
          success: true as const,
          data: { actor: who.actor, via: who.via, expires_at: who.expiresAt?.toISOString() ?? null },
        },
        200,
      );
    },
  );
}
