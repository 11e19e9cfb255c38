import {
  StarsSuccessfulPaymentRequestSchema,
  StarsSuccessfulPaymentResponseSchema,
} from "@obuna/contracts/http";
import { orApiError } from "../errors";
import { requireInternal, requireScope } from "../middleware/auth";
import { recordSuccessfulPayment } from "../services/stars";
import { bearerSecurity, createRoute, type GatewayApp, jsonBody, okResponse } from "./_shared";

export const route = createRoute({
  method: "post",
  path: "/api/v1/stars/successful-payment",
  tags: ["stars"],
  summary: "Record a successful_payment (once per telegram_payment_charge_id; bot only)",
  security: bearerSecurity,
  middleware: [requireInternal, requireScope("stars:pay")] as const,
  request: { body: jsonBody(StarsSuccessfulPaymentRequestSchema) },
  responses: okResponse(StarsSuccessfulPaymentResponseSchema, "Record a successful_payment"),
});

const handle = recordSuccessfulPayment;

export function registerStarsSuccessfulPayment(app: GatewayApp) {
  app.openapi(route, async (c) => {
    const data = orApiError(await handle(c.get("deps"), c.req.valid("json")));
    return c.json({ success: true as const, data }, 200);
  });
}
