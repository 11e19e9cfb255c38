import { AtmosPreApplyRequestSchema, AtmosPreApplyResponseSchema } from "@obuna/contracts/http";
import { orApiError } from "../errors";
import { callerScope, requireFreshCaller, requireScope } from "../middleware/auth";
import { idempotency } from "../middleware/idempotency";
import { consumeLimits } from "../middleware/rate-limit";
import { sendCode } from "../services/checkout/send-code";
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
  path: "/api/v1/checkout/pre-apply",
  tags: ["checkout"],
  summary: "Check the card and have the provider send the SMS code (binds the card when auto_renew is on)",
  security: eitherSecurity,
  middleware: [requireFreshCaller, requireScope("checkout"), idempotency] as const,
  parameters: [...idempotencyParameters],
  request: { body: jsonBody(AtmosPreApplyRequestSchema) },
  responses: okResponse(AtmosPreApplyResponseSchema, "SMS code sent"),
});
export const aliasRoute = deprecatedAlias(route, "/api/v1/atmos/pre-apply");

export function registerCheckoutPreApply(app: GatewayApp) {
  documentAlias(app, route, aliasRoute.path);
  for (const r of [route, aliasRoute]) {
    app.openapi(r, async (c) => {
      const input = c.req.valid("json");
      const who = callerScope(c.get("caller"));
      await consumeLimits(c, [
        ["sms_session", `${who}:${input.session_id}`],
        ["sms_user", who],
      ]);
      const data = orApiError(await sendCode(c.get("deps"), c.get("caller"), input));
      return c.json({ success: true as const, data }, 200);
    });
  }
}
