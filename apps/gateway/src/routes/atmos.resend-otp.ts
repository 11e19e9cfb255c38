import { AtmosResendOtpRequestSchema, AtmosResendOtpResponseSchema } from "@obuna/contracts/http";
import { callerScope, requireCaller, requireScope } from "../middleware/auth";
import { idempotency } from "../middleware/idempotency";
import { consumeLimits } from "../middleware/rate-limit";
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
  middleware: [requireCaller, requireScope("checkout"), idempotency] as const,
  request: { headers: idempotencyHeader, body: jsonBody(AtmosResendOtpRequestSchema) },
  responses: okResponse(AtmosResendOtpResponseSchema, "SMS code sent again"),
});

export function registerAtmosResendOtp(app: GatewayApp) {
  app.openapi(route, async (c) => {
    const input = c.req.valid("json");
    const who = callerScope(c.get("caller"));
    await consumeLimits(c, [
      ["sms_session", `${who}:${input.session_id}`],
      ["sms_user", who],
    ]);
    const data = await resendOtp(c.get("deps"), c.get("caller"), input);
    return c.json({ success: true as const, data }, 200);
  });
}
