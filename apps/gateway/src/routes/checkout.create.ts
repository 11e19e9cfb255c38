import { AtmosCreateRequestSchema, AtmosCreateResponseSchema } from "@obuna/contracts/http";
import { orApiError } from "../errors";
import { requireFreshCaller, requireScope } from "../middleware/auth";
import { idempotency } from "../middleware/idempotency";
import { createPayment } from "../services/checkout/create";
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
  path: "/api/v1/checkout/create",
  tags: ["checkout"],
  summary: "Create the provider payment for a session (the amount must equal the plan price)",
  security: eitherSecurity,
  middleware: [requireFreshCaller, requireScope("checkout"), idempotency] as const,
  parameters: [...idempotencyParameters],
  request: { body: jsonBody(AtmosCreateRequestSchema) },
  responses: okResponse(AtmosCreateResponseSchema, "The provider payment (transaction_id)"),
});
export const aliasRoute = deprecatedAlias(route, "/api/v1/atmos/create");

export function registerCheckoutCreate(app: GatewayApp) {
  documentAlias(app, route, aliasRoute.path);
  for (const r of [route, aliasRoute]) {
    app.openapi(r, async (c) => {
      const data = orApiError(await createPayment(c.get("deps"), c.get("caller"), c.req.valid("json")));
      return c.json({ success: true as const, data }, 200);
    });
  }
}
