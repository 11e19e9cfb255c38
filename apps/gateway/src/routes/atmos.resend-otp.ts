import { AtmosResendOtpRequestSchema, AtmosResendOtpResponseSchema } from "@obuna/contracts/http";
import { requireCaller } from "../middleware/auth";
import { idempotency } from "../middleware/idempotency";
import { resendOtp } from "../services/payment-flow";
import {
  createRoute,
  eitherSecurity,
  type GatewayApp,
  idempotencyHeader,
  jsonBody,
  okResponse,
} from "./_shared";

export const route = createRoute({
  method: "post",
  path: "/api/v1/atmos/resend-otp",
  tags: ["atmos"],
  summary: "Send the SMS code again (cooldown 60 s)",
  security: eitherSecurity,
  middleware: [requireCaller, idempotency] as const,
  request: { headers: idempotencyHeader, body: jsonBody(AtmosResendOtpRequestSchema) },
  responses: okResponse(AtmosResendOtpResponseSchema, "SMS code sent again"),
});

export function registerAtmosResendOtp(app: GatewayApp) {
  app.openapi(route, async (c) => {
    const data = await resendOtp(c.get("deps"), c.get("caller"), c.req.valid("json"));
    return c.json({ success: true as const, data }, 200);
  });
}
