import { AtmosCreateRequestSchema, AtmosCreateResponseSchema } from "@obuna/contracts/http";
import { requireFreshCaller, requireScope } from "../middleware/auth";
import { idempotency } from "../middleware/idempotency";
import { createAtmosTransaction } from "../services/payment-flow";
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
  path: "/api/v1/atmos/create",
  tags: ["atmos"],
  summary: "Create the ATMOS transaction for a session (the amount must equal the plan price)",
  security: eitherSecurity,
  middleware: [requireFreshCaller, requireScope("checkout"), idempotency] as const,
  request: { headers: idempotencyHeader, body: jsonBody(AtmosCreateRequestSchema) },
  responses: okResponse(AtmosCreateResponseSchema, "The ATMOS transaction"),
});

export function registerAtmosCreate(app: GatewayApp) {
  app.openapi(route, async (c) => {
    const data = await createAtmosTransaction(c.get("deps"), c.get("caller"), c.req.valid("json"));
    return c.json({ success: true as const, data }, 200);
  });
}
