import { StarsSessionInvoiceResponseSchema } from "@obuna/contracts/http";
import { orApiError } from "../errors";
import { requireFreshCaller, requireScope } from "../middleware/auth";
import { createStarsInvoiceLink } from "../services/stars";
import { createRoute, eitherSecurity, type GatewayApp, okResponse, z } from "./_shared";

/**
 * The Mini App's "Pay with Stars" (docs/stars.md): the user's own pending session's Stars invoice
 * link, which the page opens with Telegram.WebApp.openInvoice. Paying needs the user's fresh signed
 * initData, as the card checkout does (no token holds `checkout`); the money itself is recorded only
 * from Telegram's successful_payment, relayed by the bot.
 */
export const route = createRoute({
  method: "post",
  path: "/api/v1/payment/session/{session_id}/stars-invoice",
  tags: ["stars"],
  summary: "A Telegram Stars invoice link for the Mini App user's own pending session",
  security: eitherSecurity,
  middleware: [requireFreshCaller, requireScope("checkout")] as const,
  request: {
    params: z.object({
      session_id: z
        .string()
        .uuid()
        .openapi({ param: { name: "session_id", in: "path" } }),
    }),
  },
  responses: okResponse(StarsSessionInvoiceResponseSchema, "The session's Stars invoice link"),
});

export function registerStarsSessionInvoice(app: GatewayApp) {
  app.openapi(route, async (c) => {
    const { session_id } = c.req.valid("param");
    const data = orApiError(await createStarsInvoiceLink(c.get("deps"), session_id, c.get("caller")));
    return c.json({ success: true as const, data }, 200);
  });
}
