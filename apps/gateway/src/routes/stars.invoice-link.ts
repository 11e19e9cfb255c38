import { StarsInvoiceLinkRequestSchema, StarsInvoiceLinkResponseSchema } from "@obuna/contracts/http";
import { orApiError } from "../errors";
import { requireInternal, requireScope } from "../middleware/auth";
import { createStarsInvoiceLink } from "../services/stars";
import { bearerSecurity, createRoute, type GatewayApp, jsonBody, okResponse } from "./_shared";

export const route = createRoute({
  method: "post",
  path: "/api/v1/stars/invoice-link",
  tags: ["stars"],
  summary: "A Telegram Stars invoice link for a pending payment session (bot only)",
  security: bearerSecurity,
  middleware: [requireInternal, requireScope("stars:pay")] as const,
  request: { body: jsonBody(StarsInvoiceLinkRequestSchema) },
  responses: okResponse(
    StarsInvoiceLinkResponseSchema,
    "A Telegram Stars invoice link for a pending payment session",
  ),
});

const handle = (deps: Parameters<typeof createStarsInvoiceLink>[0], input: { session_id: string }) =>
  createStarsInvoiceLink(deps, input.session_id);

export function registerStarsInvoiceLink(app: GatewayApp) {
  app.openapi(route, async (c) => {
    const data = orApiError(await handle(c.get("deps"), c.req.valid("json")));
    return c.json({ success: true as const, data }, 200);
  });
}
