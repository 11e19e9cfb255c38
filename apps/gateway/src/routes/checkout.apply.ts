import { AtmosApplyRequestSchema, AtmosApplyResponseSchema } from "@obuna/contracts/http";
import { orApiError } from "../errors";
import { callerScope, requireCaller, requireScope } from "../middleware/auth";
import { idempotency } from "../middleware/idempotency";
import { consumeLimits } from "../middleware/rate-limit";
import { confirmPayment } from "../services/checkout/confirm";
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
  path: "/api/v1/checkout/apply",
  tags: ["checkout"],
  summary: "Confirm the payment with the SMS code; repeating it for a paid session charges nothing",
  security: eitherSecurity,
  middleware: [requireCaller, requireScope("checkout"), idempotency] as const,
  parameters: [...idempotencyParameters],
  request: { body: jsonBody(AtmosApplyRequestSchema) },
  responses: okResponse(
    AtmosApplyResponseSchema,
    "Paid (completed) or not known yet (processing: poll the session)",
  ),
});
export const aliasRoute = deprecatedAlias(route, "/api/v1/atmos/apply");

export function registerCheckoutApply(app: GatewayApp) {
  documentAlias(app, route, aliasRoute.path);
  for (const r of [route, aliasRoute]) {
    app.openapi(r, async (c) => {
      const input = c.req.valid("json");
      const who = callerScope(c.get("caller"));
      await consumeLimits(c, [["apply_session", `${who}:${input.session_id}`]]);
      const data = orApiError(await confirmPayment(c.get("deps"), c.get("caller"), input));
      if (data.status === "processing") c.set("idempotencyProvisional", true);
      return c.json({ success: true as const, data }, 200);
    });
  }
}
