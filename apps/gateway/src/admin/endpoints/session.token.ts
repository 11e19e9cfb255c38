import { AdminSessionRequestSchema, AdminSessionResponseSchema } from "@obuna/contracts/http";
import { ApiError } from "../../errors";
import { limitAdminSignIn } from "../../middleware/rate-limit";
import { createRoute, type GatewayApp, jsonBody, okResponse } from "../../routes/_shared";
import { type AdminConfig, isAdminToken, startAdminSession, TOKEN_ADMIN_ACTOR } from "../auth";
import { ADMIN_TAG } from "./_admin";

/** POST /api/v1/admin/session — ADMIN_TOKEN in, a signed, expiring session token out (rate-limited per IP). */
export function registerAdminSessionToken(app: GatewayApp, config: AdminConfig | undefined) {
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/v1/admin/session",
      tags: [ADMIN_TAG],
      summary: "Exchange ADMIN_TOKEN for a signed, expiring session token (keep it in an httpOnly cookie)",
      // Sign-in attempts per client IP (429 RATE_LIMITED + Retry-After); see limitAdminSignIn.
      middleware: [limitAdminSignIn] as const,
      request: { body: jsonBody(AdminSessionRequestSchema) },
      responses: okResponse(AdminSessionResponseSchema, "The session token"),
    }),
    async (c) => {
      const body = c.req.valid("json");
      const deps = c.get("deps");
      if (!isAdminToken(body.token, config)) {
        deps.logger.warn("admin sign-in refused");
        throw new ApiError("UNAUTHORIZED", "Wrong admin token", { field: "token" });
      }
      // The actor comes from the credential: everyone holding ADMIN_TOKEN is `admin`.
      const actor = TOKEN_ADMIN_ACTOR;
      const session = await startAdminSession(deps.db, config!, actor, deps.clock());
      deps.logger.info({ actor }, "admin signed in");
      return c.json(
        {
          success: true as const,
          data: { session_token: session.token, actor, expires_at: session.expiresAt.toISOString() },
        },
        200,
      );
    },
  );
}
