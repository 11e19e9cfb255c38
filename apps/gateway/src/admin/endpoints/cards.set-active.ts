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
import { setCardActive } from "../actions/card-active";
import { ADMIN_TAG, type AdminGuard, adminSecurity, idParams } from "./_admin";

/**
 * POST /api/v1/admin/cards/{id}/deactivate and …/reactivate (audited; Idempotency-Key): one use case
 * (`setCardActive`) with the target state in the path, so both routes share this registration.
 */
export function registerAdminCardSetActive(
  app: GatewayApp,
  admin: AdminGuard,
  target: { active: boolean; summary: string },
) {
  const state = target.active ? "active" : "inactive";
  app.openapi(
    createRoute({
      method: "post",
      path: `/api/v1/admin/cards/{id}/${target.active ? "reactivate" : "deactivate"}`,
      tags: [ADMIN_TAG],
      summary: target.summary,
      security: adminSecurity,
      middleware: [admin, idempotency] as const,
      parameters: [...idempotencyParameters],
      request: { params: idParams, body: jsonBody(AdminActionRequestSchema) },
      responses: okResponse(AdminCardActionResponseSchema, "The card after the action"),
    }),
    async (c) => {
      const outcome = await setCardActive(c.get("deps"), c.get("admin"), {
        cardId: c.req.valid("param").id,
        active: target.active,
        reason: c.req.valid("json").reason,
      });
      switch (outcome.status) {
        case "not_found":
          throw new ApiError("CARD_NOT_FOUND", "Card not found");
        case "removed":
          throw new ApiError("INVALID_STATE", "The card was removed at ATMOS; it cannot change any more");
        case "unchanged":
          throw new ApiError("INVALID_STATE", `The card is already ${state}`);
        case "changed":
          return c.json(
            { success: true as const, data: { card: outcome.card, audit_id: outcome.auditId } },
            200,
          );
      }
    },
  );
}
