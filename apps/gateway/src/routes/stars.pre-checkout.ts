import { StarsPreCheckoutRequestSchema, StarsPreCheckoutResponseSchema } from "@obuna/contracts/http";
import { orApiError } from "../errors";
import { requireInternal, requireScope } from "../middleware/auth";
import { checkPreCheckout } from "../services/stars";
import { bearerSecurity, createRoute, type GatewayApp, jsonBody, okResponse } from "./_shared";

export const route = createRoute({
  method: "post",
  path: "/api/v1/stars/pre-checkout",
  tags: ["stars"],
  summary: "May Telegram charge this pre_checkout_query? (bot only; answer within 10 s)",
  security: bearerSecurity,
  middleware: [requireInternal, requireScope("stars:pay")] as const,
  request: { body: jsonBody(StarsPreCheckoutRequestSchema) },
  responses: okResponse(StarsPreCheckoutResponseSchema, "May Telegram charge this pre_checkout_query?"),
});

const handle = checkPreCheckout;

export function registerStarsPreCheckout(app: GatewayApp) {
  app.openapi(route, async (c) => {
    const data = orApiError(await handle(c.get("deps"), c.req.valid("json")));
    return c.json({ success: true as const, data }, 200);
  });
}
