import { AdminSessionResponseSchema } from "@obuna/contracts/http";
import { ApiError } from "../../errors";
import { limitAdminSignIn } from "../../middleware/rate-limit";
import { createRoute, type GatewayApp, okResponse } from "../../routes/_shared";
import { type AdminConfig, startAdminSession } from "../auth";
import { ADMIN_TAG, type AdminGuard } from "./_admin";

/**
 * POST /api/v1/admin/session/telegram — the Mini App initData of a user in ADMIN_TELEGRAM_IDS in, a
 * session token for actor `tg:<id>` out. `telegramExchange` is requireAdmin(config, { telegramExchange: true }).
 */
export function registerAdminSessionTelegram(
  app: GatewayApp,
  config: AdminConfig | undefined,
  telegramExchange: AdminGuard,
) {
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/v1/admin/session/telegram",
      tags: [ADMIN_TAG],
      summary:
        "Exchange the Mini App initData of a user in ADMIN_TELEGRAM_IDS for a session token (actor tg:<id>)",
      security: [{ telegramInitData: [] }],
      middleware: [limitAdminSignIn, telegramExchange] as const,
      responses: okResponse(AdminSessionResponseSchema, "The session token"),
    }),
    async (c) => {
      const who = c.get("admin");
      const deps = c.get("deps");
      if (who.via !== "telegram") {
        throw new ApiError("UNAUTHORIZED", "Sign in here with `tma <initData>` of a Telegram admin");
      }
      const session = await startAdminSession(deps.db, config!, who.actor, deps.clock());
      deps.logger.info({ actor: who.actor }, "admin signed in with Telegram");
      return c.json(
        {
          success: true as const,
          data: {
            session_token: session.token,
            actor: who.actor,
            expires_at: session.expiresAt.toISOString(),
          },
        },
        200,
      );
    },
  );
}
