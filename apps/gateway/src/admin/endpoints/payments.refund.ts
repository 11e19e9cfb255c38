import type { ProviderErrorKind } from "@obuna/billing";
import { AdminActionRequestSchema, AdminRefundResponseSchema } from "@obuna/contracts/http";
import { ApiError } from "../../errors";
import { idempotency } from "../../middleware/idempotency";
import {
  createRoute,
  type GatewayApp,
  idempotencyParameters,
  jsonBody,
  okResponse,
} from "../../routes/_shared";
import { type RefundOutcome, refundPayment } from "../actions/refund";
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
      parameters: [...idempotencyParameters],
      request: { params: idParams, body: jsonBody(AdminActionRequestSchema) },
      responses: okResponse(AdminRefundResponseSchema, "The refunded payment and its subscription"),
    }),
    async (c) => {
      const outcome = await refundPayment(c.get("deps"), c.get("admin"), {
        paymentId: c.req.valid("param").id,
        reason: c.req.valid("json").reason,
      });
      if (outcome.status !== "refunded") throw refundError(outcome);
      const data = {
        payment: outcome.payment,
        subscription: outcome.subscription,
        audit_id: outcome.auditId,
      };
      return c.json({ success: true as const, data }, 200);
    },
  );
}

/** Provider refusals that are a definite answer about this payment (409); any other kind is the provider being unavailable (503). */
const DEFINITE_REFUSALS = new Set<ProviderErrorKind>([
  "insufficient_funds",
  "card_expired",
  "card_blocked",
  "card_not_found",
  "invalid_params",
  "sms_not_connected",
  "wrong_code",
  "code_expired",
  "code_attempts_exceeded",
  "declined",
  "card_already_bound",
  "payment_closed",
  "payment_not_found",
]);

function refundError(outcome: Exclude<RefundOutcome, { status: "refunded" }>): ApiError {
  switch (outcome.status) {
    case "not_found":
      return new ApiError("PAYMENT_NOT_FOUND", "Payment not found");
    case "stars_not_configured":
      return new ApiError("SERVICE_UNAVAILABLE", "Telegram Stars is not configured");
    case "already_refunded":
      return new ApiError(
        "INVALID_STATE",
        "This payment was already refunded",
        outcome.rail === "card"
          ? { details: { reversed_at: outcome.reversedAt?.toISOString() ?? null } }
          : {},
      );
    case "not_refundable":
      return new ApiError(
        "INVALID_STATE",
        `Only successful payments can be refunded (this one is ${outcome.paymentStatus})`,
      );
    case "provider_refused":
      if (outcome.rail === "stars")
        return new ApiError("INVALID_STATE", `Telegram refused the refund: ${outcome.message}`);
      return new ApiError(
        outcome.errorKind && DEFINITE_REFUSALS.has(outcome.errorKind)
          ? "INVALID_STATE"
          : "PAYMENT_PROVIDER_UNAVAILABLE",
        `ATMOS refused the refund: ${outcome.message ?? "unknown error"}`,
        outcome.errorKind ? { details: { atmos_error: outcome.errorKind } } : {},
      );
    case "provider_unknown":
      return new ApiError(
        "PAYMENT_PROVIDER_UNAVAILABLE",
        outcome.rail === "stars"
          ? "Telegram did not confirm the refund; nothing was marked refunded. Check getStarTransactions before retrying."
          : "ATMOS did not confirm the refund; nothing was marked refunded. Check with `pnpm reconcile` before retrying.",
        { details: { outcome: "unknown" } },
      );
  }
}
