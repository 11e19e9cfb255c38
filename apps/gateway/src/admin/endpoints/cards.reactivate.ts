import { AdminActionRequestSchema, AdminCardActionResponseSchema } from "@obuna/contracts/http";
import { idempotency } from "../../middleware/idempotency";
import { createRoute, type GatewayApp, idempotencyHeader, jsonBody, okResponse } from "../../routes/_shared";
import { setCardActive } from "../service";
import { ADMIN_TAG, type AdminGuard, adminSecurity, idParams } from "./_admin";

/** POST /api/v1/admin/cards/{id}/reactivate (audited; Idempotency-Key). */
export function registerAdminCardsReactivate(app: GatewayApp, admin: AdminGuard) {
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/v1/admin/cards/{id}/reactivate",
      tags: [ADMIN_TAG],
      summary: "Reactivate a deactivated (not removed) card",
      security: adminSecurity,
      middleware: [admin, idempotency] as const,
      request: { headers: idempotencyHeader, params: idParams, body: jsonBody(AdminActionRequestSchema) },
      responses: okResponse(AdminCardActionResponseSchema, "The card after the action"),
    }),
    async (c) => {
      const data = await setCardActive(
        c.get("deps"),
        c.get("admin"),
        c.req.valid("param").id,
        true,
        c.req.valid("json").reason,
      );
      return c.json({ success: true as const, data }, 200);
    },
  );
}
