import { AdminActionRequestSchema, AdminRefundResponseSchema } from "@obuna/contracts/http";
import { idempotency } from "../../middleware/idempotency";
import { createRoute, type GatewayApp, idempotencyHeader, jsonBody, okResponse } from "../../routes/_shared";
import { refundPayment } from "../service";
import { ADMIN_TAG, type AdminGuard, adminSecurity, idParams } from "./_admin";

/** POST /api/v1/admin/payments/{id}/refund (audited; Idempotency-Key). */
export function registerAdminPaymentsRefund(app: GatewayApp, admin: AdminGuard) {
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/v1/admin/payments/{id}/refund",
      tags: [ADMIN_TAG],
      summary: "Refund (ATMOS reverse) a successful payment; the subscription loses that period",
      security: adminSecurity,
      middleware: [admin, idempotency] as const,
      request: { headers: idempotencyHeader, params: idParams, body: jsonBody(AdminActionRequestSchema) },
      responses: okResponse(AdminRefundResponseSchema, "The refunded payment and its subscription"),
    }),
    async (c) => {
      const data = await refundPayment(
        c.get("deps"),
        c.get("admin"),
        c.req.valid("param").id,
        c.req.valid("json").reason,
      );
      return c.json({ success: true as const, data }, 200);
    },
  );
}
