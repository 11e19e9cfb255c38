import { AdminActionRequestSchema, AdminCardActionResponseSchema } from "@obuna/contracts/http";
import { ApiError } from "../../errors";
import { idempotency } from "../../middleware/idempotency";
import { createRoute, type GatewayApp, idempotencyHeader, jsonBody, okResponse } from "../../routes/_shared";
import { setCardActive } from "../actions/card-active";
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
      const outcome = await setCardActive(c.get("deps"), c.get("admin"), {
        cardId: c.req.valid("param").id,
        active: true,
        reason: c.req.valid("json").reason,
      });
      switch (outcome.status) {
        case "not_found":
          throw new ApiError("CARD_NOT_FOUND", "Card not found");
        case "removed":
          throw new ApiError("INVALID_STATE", "The card was removed at ATMOS; it cannot change any more");
        case "unchanged":
          throw new ApiError("INVALID_STATE", "The card is already active");
        case "changed":
          return c.json(
            { success: true as const, data: { card: outcome.card, audit_id: outcome.auditId } },
            200,
          );
      }
    },
  );
}
