import { PaymentSessionResponseSchema } from "@obuna/contracts/http";
import { orApiError } from "../errors";
import { requireCaller, requireScope } from "../middleware/auth";
import { getSessionForCaller } from "../services/checkout/views";
import { createRoute, eitherSecurity, type GatewayApp, okResponse, z } from "./_shared";

export const route = createRoute({
  method: "get",
  path: "/api/v1/payment/session/{session_id}",
  tags: ["payment"],
  summary: "A payment session (re-checks ATMOS when an earlier apply outcome is unknown)",
  security: eitherSecurity,
  middleware: [requireCaller, requireScope("session:read")] as const,
  request: {
    // Built here with the zod-openapi `z` (not the contracts' SessionIdSchema): a schema created before
    // @hono/zod-openapi loaded has no `.openapi()`, and module load order must not matter.
    params: z.object({
      session_id: z
        .string()
        .uuid()
        .openapi({ param: { name: "session_id", in: "path" } }),
    }),
  },
  responses: okResponse(PaymentSessionResponseSchema, "The session"),
});

export function registerPaymentSession(app: GatewayApp) {
  app.openapi(route, async (c) => {
    const { session_id } = c.req.valid("param");
    const data = orApiError(await getSessionForCaller(c.get("deps"), c.get("caller"), session_id));
    return c.json({ success: true as const, data }, 200);
  });
}
