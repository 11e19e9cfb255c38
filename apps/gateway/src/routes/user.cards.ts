import { CardsResponseSchema } from "@obuna/contracts/http";
import { orApiError } from "../errors";
import { requireCaller, requireScope } from "../middleware/auth";
import { idempotency } from "../middleware/idempotency";
import { listCards, removeCard } from "../services/account";
import {
  createRoute,
  eitherSecurity,
  type GatewayApp,
  IdParam,
  idempotencyParameters,
  okResponse,
  TelegramIdParam,
  z,
} from "./_shared";

export const listRoute = createRoute({
  method: "get",
  path: "/api/v1/user/{telegram_id}/cards",
  tags: ["user"],
  summary: "Saved cards (masked)",
  security: eitherSecurity,
  middleware: [requireCaller, requireScope("cards:read")] as const,
  request: { params: z.object({ telegram_id: TelegramIdParam }) },
  responses: okResponse(CardsResponseSchema, "Cards"),
});

export const removeRoute = createRoute({
  method: "delete",
  path: "/api/v1/user/{telegram_id}/cards/{card_id}",
  tags: ["user"],
  summary: "Remove a saved card (at ATMOS too); subscriptions using it stop auto-renewing",
  security: eitherSecurity,
  middleware: [requireCaller, requireScope("cards:remove"), idempotency] as const,
  parameters: [...idempotencyParameters],
  request: {
    params: z.object({ telegram_id: TelegramIdParam, card_id: IdParam("card_id") }),
  },
  responses: okResponse(CardsResponseSchema, "The remaining cards"),
});

export function registerUserCards(app: GatewayApp) {
  app.openapi(listRoute, async (c) => {
    const data = orApiError(
      await listCards(c.get("deps"), c.get("caller"), c.req.valid("param").telegram_id),
    );
    return c.json({ success: true as const, data }, 200);
  });
  app.openapi(removeRoute, async (c) => {
    const { telegram_id, card_id } = c.req.valid("param");
    const data = orApiError(await removeCard(c.get("deps"), c.get("caller"), telegram_id, card_id));
    return c.json({ success: true as const, data }, 200);
  });
}
