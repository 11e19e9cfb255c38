import { AdminPlanActionResponseSchema, AdminPlanCreateRequestSchema } from "@obuna/contracts/http";
import { idempotency } from "../../middleware/idempotency";
import {
  createRoute,
  type GatewayApp,
  idempotencyParameters,
  jsonBody,
  okResponse,
} from "../../routes/_shared";
import { createPlan } from "../plans";
import { ADMIN_TAG, type AdminGuard, adminSecurity } from "./_admin";

/** POST /api/v1/admin/plans — a new plan (audited; Idempotency-Key). */
export function registerAdminPlansCreate(app: GatewayApp, admin: AdminGuard) {
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/v1/admin/plans",
      tags: [ADMIN_TAG],
      summary:
        "Create a plan: slug, names in uz/ru/en, price (tiyin), period, active flag, sort order, fiscal receipt codes",
      security: adminSecurity,
      middleware: [admin, idempotency] as const,
      parameters: [...idempotencyParameters],
      request: { body: jsonBody(AdminPlanCreateRequestSchema) },
      responses: okResponse(AdminPlanActionResponseSchema, "The new plan"),
    }),
    async (c) => {
      const data = await createPlan(c.get("deps"), c.get("admin"), c.req.valid("json"));
      return c.json({ success: true as const, data }, 200);
    },
  );
}
