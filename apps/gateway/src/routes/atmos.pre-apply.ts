import { AtmosPreApplyRequestSchema, AtmosPreApplyResponseSchema } from "@obuna/contracts/http";
import { requireFreshCaller } from "../middleware/auth";
import { idempotency } from "../middleware/idempotency";
import { preApply } from "../services/payment-flow";
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
  path: "/api/v1/atmos/pre-apply",
  tags: ["atmos"],
  summary: "Check the card and have ATMOS send the SMS code (binds the card when auto_renew is on)",
  security: eitherSecurity,
  middleware: [requireFreshCaller, idempotency] as const,
  request: { headers: idempotencyHeader, body: jsonBody(AtmosPreApplyRequestSchema) },
  responses: okResponse(AtmosPreApplyResponseSchema, "SMS code sent"),
});

export function registerAtmosPreApply(app: GatewayApp) {
  app.openapi(route, async (c) => {
    const data = await preApply(c.get("deps"), c.get("caller"), c.req.valid("json"));
    return c.json({ success: true as const, data }, 200);
  });
}
