import { StarsRefundedPaymentRequestSchema, StarsRefundedPaymentResponseSchema } from "@obuna/contracts/http";
import { orApiError } from "../errors";
import { requireInternal, requireScope } from "../middleware/auth";
import { recordRefundedPayment } from "../services/stars";
import { bearerSecurity, createRoute, type GatewayApp, jsonBody, okResponse } from "./_shared";

export const route = createRoute({
  method: "post",
  path: "/api/v1/stars/refunded-payment",
  tags: ["stars"],
  summary: "Record a refunded_payment (bot only)",
  security: bearerSecurity,
  middleware: [requireInternal, requireScope("stars:pay")] as const,
  request: { body: jsonBody(StarsRefundedPaymentRequestSchema) },
  responses: okResponse(StarsRefundedPaymentResponseSchema, "Record a refunded_payment"),
});

const handle = recordRefundedPayment;

export function registerStarsRefundedPayment(app: GatewayApp) {
  app.openapi(route, async (c) => {
    const data = orApiError(await handle(c.get("deps"), c.req.valid("json")));
    return c.json({ success: true as const, data }, 200);
  });
}
