import { AdminActionRequestSchema, AdminCardActionResponseSchema } from "@obuna/contracts/http";
import { ApiError } from "../../errors";
import { idempotency } from "../../middleware/idempotency";
import {
  createRoute,
  type GatewayApp,
  idempotencyParameters,
  jsonBody,
  okResponse,
} from "../../routes/_shared";
import { removeCardAtProvider } from "../actions/card-remove";
import { ADMIN_TAG, type AdminGuard, adminSecurity, idParams } from "./_admin";

/** POST /api/v1/admin/cards/{id}/remove (audited; Idempotency-Key). */
export function registerAdminCardsRemove(app: GatewayApp, admin: AdminGuard) {
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/v1/admin/cards/{id}/remove",
      tags: [ADMIN_TAG],
      summary: "Remove a card at ATMOS; subscriptions using it stop auto-renewing",
      security: adminSecurity,
      middleware: [admin, idempotency] as const,
      parameters: [...idempotencyParameters],
      request: { params: idParams, body: jsonBody(AdminActionRequestSchema) },
      responses: okResponse(AdminCardActionResponseSchema, "The card after the action"),
    }),
    async (c) => {
      const outcome = await removeCardAtProvider(c.get("deps"), c.get("admin"), {
        cardId: c.req.valid("param").id,
        reason: c.req.valid("json").reason,
      });
      switch (outcome.status) {
        case "not_found":
          throw new ApiError("CARD_NOT_FOUND", "Card not found");
        case "already_removed":
          throw new ApiError("INVALID_STATE", "The card was already removed");
        case "provider_failed":
          throw new ApiError(
            "PAYMENT_PROVIDER_UNAVAILABLE",
            "The card could not be removed at ATMOS; try again",
            outcome.errorKind ? { details: { atmos_error: outcome.errorKind } } : {},
          );
        case "removed":
          return c.json(
            { success: true as const, data: { card: outcome.card, audit_id: outcome.auditId } },
            200,
          );
      }
    },
  );
}
