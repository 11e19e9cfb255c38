import { AdminPlanActionResponseSchema, AdminPlanPriceRequestSchema } from "@obuna/contracts/http";
import { idempotency } from "../../middleware/idempotency";
import {
  createRoute,
  type GatewayApp,
  idempotencyParameters,
  jsonBody,
  okResponse,
} from "../../routes/_shared";
import { changePlanPrice } from "../plans";
import { ADMIN_TAG, type AdminGuard, adminSecurity, idParams } from "./_admin";

/**
 * POST /api/v1/admin/plans/{id}/price — new purchases pay it at once; live subscriptions only after
 * their price-change notice period (docs/plans.md). Audited; Idempotency-Key.
 */
export function registerAdminPlansPrice(app: GatewayApp, admin: AdminGuard) {
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/v1/admin/plans/{id}/price",
      tags: [ADMIN_TAG],
      summary:
        "Change a plan's price: new purchases at once, renewals after PRICE_CHANGE_NOTICE_DAYS from the notice",
      security: adminSecurity,
      middleware: [admin, idempotency] as const,
      parameters: [...idempotencyParameters],
      request: { params: idParams, body: jsonBody(AdminPlanPriceRequestSchema) },
      responses: okResponse(AdminPlanActionResponseSchema, "The plan and how many subscribers owe a notice"),
    }),
    async (c) => {
      const data = await changePlanPrice(
        c.get("deps"),
        c.get("admin"),
        c.req.valid("param").id,
        c.req.valid("json"),
      );
      return c.json({ success: true as const, data }, 200);
    },
  );
}
