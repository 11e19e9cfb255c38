import { AdminPlanActionResponseSchema, AdminPlanUpdateRequestSchema } from "@obuna/contracts/http";
import { idempotency } from "../../middleware/idempotency";
import {
  createRoute,
  type GatewayApp,
  idempotencyParameters,
  jsonBody,
  okResponse,
} from "../../routes/_shared";
import { updatePlan } from "../plans";
import { ADMIN_TAG, type AdminGuard, adminSecurity, idParams } from "./_admin";

/** POST /api/v1/admin/plans/{id}/edit — names, period, active flag, sort order, fiscal receipt codes (audited; Idempotency-Key). */
export function registerAdminPlansEdit(app: GatewayApp, admin: AdminGuard) {
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/v1/admin/plans/{id}/edit",
      tags: [ADMIN_TAG],
      summary:
        "Edit a plan's names, period, active flag, sort order or fiscal receipt codes (not its price: see /price)",
      security: adminSecurity,
      middleware: [admin, idempotency] as const,
      parameters: [...idempotencyParameters],
      request: {
        params: idParams,
        body: jsonBody(AdminPlanUpdateRequestSchema),
      },
      responses: okResponse(AdminPlanActionResponseSchema, "The plan after the edit"),
    }),
    async (c) => {
      const data = await updatePlan(
        c.get("deps"),
        c.get("admin"),
        c.req.valid("param").id,
        c.req.valid("json"),
      );
      return c.json({ success: true as const, data }, 200);
    },
  );
}
