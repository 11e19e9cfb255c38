import { SetLanguageRequestSchema, SetLanguageResponseSchema } from "@obuna/contracts/http";
import { orApiError } from "../errors";
import { requireCaller, requireScope } from "../middleware/auth";
import { setLanguage } from "../services/account";
import {
  createRoute,
  eitherSecurity,
  type GatewayApp,
  jsonBody,
  okResponse,
  TelegramIdParam,
  z,
} from "./_shared";

export const route = createRoute({
  method: "put",
  path: "/api/v1/user/{telegram_id}/language",
  tags: ["user"],
  summary:
    "The language the user chose (bot /start, or the Mini App for themselves); it wins over Telegram's language_code",
  security: eitherSecurity,
  middleware: [requireCaller, requireScope("user:language")] as const,
  request: { params: z.object({ telegram_id: TelegramIdParam }), body: jsonBody(SetLanguageRequestSchema) },
  responses: okResponse(SetLanguageResponseSchema, "The stored language"),
});

export function registerUserLanguage(app: GatewayApp) {
  app.openapi(route, async (c) => {
    const data = orApiError(
      await setLanguage(
        c.get("deps"),
        c.get("caller"),
        c.req.valid("param").telegram_id,
        c.req.valid("json"),
      ),
    );
    return c.json({ success: true as const, data }, 200);
  });
}
