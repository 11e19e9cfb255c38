import { PaymentHistoryResponseSchema } from "@obuna/contracts/http";
import { orApiError } from "../errors";
import { requireCaller, requireScope } from "../middleware/auth";
import { paymentHistory } from "../services/account";
import { createRoute, eitherSecurity, type GatewayApp, okResponse, TelegramIdParam, z } from "./_shared";

export const route = createRoute({
  method: "get",
  path: "/api/v1/user/{telegram_id}/payments",
  tags: ["user"],
  summary: "Payment history, newest first",
  security: eitherSecurity,
  middleware: [requireCaller, requireScope("payments:read")] as const,
  request: { params: z.object({ telegram_id: TelegramIdParam }) },
  responses: okResponse(PaymentHistoryResponseSchema, "Payments"),
});

export function registerUserPayments(app: GatewayApp) {
  app.openapi(route, async (c) => {
    const data = orApiError(
      await paymentHistory(c.get("deps"), c.get("caller"), c.req.valid("param").telegram_id),
    );
    return c.json({ success: true as const, data }, 200);
  });
}
