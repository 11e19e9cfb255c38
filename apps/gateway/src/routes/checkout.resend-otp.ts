import { AtmosResendOtpRequestSchema, AtmosResendOtpResponseSchema } from "@obuna/contracts/http";
import { orApiError } from "../errors";
import { callerScope, requireCaller, requireScope } from "../middleware/auth";
import { idempotency } from "../middleware/idempotency";
import { consumeLimits } from "../middleware/rate-limit";
import { resendCode } from "../services/checkout/resend-code";
import {
  createRoute,
  deprecatedAlias,
  documentAlias,
  eitherSecurity,
  type GatewayApp,
  idempotencyParameters,
  jsonBody,
  okResponse,
} from "./_shared";

export const route = createRoute({
  method: "post",
  path: "/api/v1/checkout/resend-otp",
  tags: ["checkout"],
  summary: "Send the SMS code again (cooldown 60 s)",
  security: eitherSecurity,
  middleware: [requireCaller, requireScope("checkout"), idempotency] as const,
  parameters: [...idempotencyParameters],
  request: { body: jsonBody(AtmosResendOtpRequestSchema) },
  responses: okResponse(AtmosResendOtpResponseSchema, "SMS code sent again"),
});
export const aliasRoute = deprecatedAlias(route, "/api/v1/atmos/resend-otp");

export function registerCheckoutResendOtp(app: GatewayApp) {
  documentAlias(app, route, aliasRoute.path);
  for (const r of [route, aliasRoute]) {
    app.openapi(r, async (c) => {
      const input = c.req.valid("json");
      const who = callerScope(c.get("caller"));
      await consumeLimits(c, [
        ["sms_session", `${who}:${input.session_id}`],
        ["sms_user", who],
      ]);
      const data = orApiError(await resendCode(c.get("deps"), c.get("caller"), input));
      return c.json({ success: true as const, data }, 200);
    });
  }
}
