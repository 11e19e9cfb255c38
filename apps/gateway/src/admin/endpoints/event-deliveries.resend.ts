import { AdminActionRequestSchema, AdminEventResendResponseSchema } from "@obuna/contracts/http";
import { idempotency } from "../../middleware/idempotency";
import {
  createRoute,
  type GatewayApp,
  idempotencyParameters,
  jsonBody,
  okResponse,
} from "../../routes/_shared";
import { resendEventDelivery } from "../event-deliveries";
import { ADMIN_TAG, type AdminGuard, adminSecurity, idParams } from "./_admin";

/**
 * POST /api/v1/admin/event-deliveries/{id}/resend — the same event to the same endpoint again (a new
 * generation; the renewals worker sends it). Audited (`event.resent`); Idempotency-Key.
 */
export function registerAdminEventDeliveriesResend(app: GatewayApp, admin: AdminGuard) {
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/v1/admin/event-deliveries/{id}/resend",
      tags: [ADMIN_TAG],
      summary: "Resend a signed premium event to its endpoint (same event id and body, signed anew)",
      security: adminSecurity,
      middleware: [admin, idempotency] as const,
      parameters: [...idempotencyParameters],
      request: { params: idParams, body: jsonBody(AdminActionRequestSchema) },
      responses: okResponse(AdminEventResendResponseSchema, "The delivery, owed again, and the audit row"),
    }),
    async (c) => {
      const data = await resendEventDelivery(
        c.get("deps"),
        c.get("admin"),
        c.req.valid("param").id,
        c.req.valid("json").reason,
      );
      return c.json({ success: true as const, data }, 200);
    },
  );
}
