import {
  AdminActionRequestSchema,
  AdminAuditListSchema,
  AdminAuditQuerySchema,
  AdminCardActionResponseSchema,
  AdminCardListSchema,
  AdminCardsQuerySchema,
  AdminDashboardSchema,
  AdminExtendRequestSchema,
  AdminLogoutResponseSchema,
  AdminMeResponseSchema,
  AdminPaymentListSchema,
  AdminPaymentSessionListSchema,
  AdminPaymentSessionsQuerySchema,
  AdminPaymentsQuerySchema,
  AdminRefundResponseSchema,
  AdminSessionRequestSchema,
  AdminSessionResponseSchema,
  AdminSubscriptionActionResponseSchema,
  AdminSubscriptionListSchema,
  AdminSubscriptionsQuerySchema,
  AdminUserListSchema,
  AdminUsersQuerySchema,
} from "@obuna/contracts/http";
import { ApiError } from "../errors";
import { idempotency } from "../middleware/idempotency";
import { limitAdminSignIn } from "../middleware/rate-limit";
import {
  createRoute,
  type GatewayApp,
  IdParam,
  idempotencyHeader,
  jsonBody,
  okResponse,
  z,
} from "../routes/_shared";
import { type AdminConfig, isAdminToken, requireAdmin, startAdminSession, TOKEN_ADMIN_ACTOR } from "./auth";
import { registerAdminDashboardSeries } from "./endpoints/dashboard.series";
import { registerAdminEventDeliveriesList } from "./endpoints/event-deliveries.list";
import { registerAdminEventDeliveriesResend } from "./endpoints/event-deliveries.resend";
import { registerAdminPlansCreate } from "./endpoints/plans.create";
import { registerAdminPlansEdit } from "./endpoints/plans.edit";
import { registerAdminPlansList } from "./endpoints/plans.list";
import { registerAdminPlansPrice } from "./endpoints/plans.price";
import {
  auditPage,
  cancelSubscriptionNow,
  cardsPage,
  dashboard,
  extendSubscription,
  paymentSessionsPage,
  paymentsPage,
  refundPayment,
  removeCardAtAtmos,
  setCardActive,
  subscriptionsPage,
  usersPage,
} from "./service";
import { deleteAdminSession } from "./sessions";

const adminSecurity: Array<Record<string, string[]>> = [{ adminToken: [] }];
const TAG = "admin";
const idParams = z.object({ id: IdParam("id") });

/**
 * `/api/v1/admin/*`: sign-in, dashboard, lists, and the audited actions. Every endpoint but
 * POST /admin/session needs admin credentials (see ./auth.ts); every action takes a reason and an
 * optional Idempotency-Key.
 */
export function registerAdmin(app: GatewayApp, config: AdminConfig | undefined) {
  app.openAPIRegistry.registerComponent("securitySchemes", "adminToken", {
    type: "http",
    scheme: "bearer",
    description: "ADMIN_TOKEN, or a session token from POST /api/v1/admin/session",
  });
  const admin = requireAdmin(config);
  const adminTelegramExchange = requireAdmin(config, { telegramExchange: true });

  // ---------------------------------------------------------------- sign-in
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/v1/admin/session",
      tags: [TAG],
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

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/v1/admin/session/telegram",
      tags: [TAG],
      summary:
        "Exchange the Mini App initData of a user in ADMIN_TELEGRAM_IDS for a session token (actor tg:<id>)",
      security: [{ telegramInitData: [] }],
      middleware: [limitAdminSignIn, adminTelegramExchange] as const,
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

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/v1/admin/logout",
      tags: [TAG],
      summary: "End the Bearer session token on the server (a copy of it stops working at once)",
      security: adminSecurity,
      middleware: [admin] as const,
      responses: okResponse(AdminLogoutResponseSchema, "Whether a live session was ended"),
    }),
    async (c) => {
      const who = c.get("admin");
      const deps = c.get("deps");
      const ended = who.sessionId ? await deleteAdminSession(deps.db, who.sessionId) : false;
      deps.logger.info({ actor: who.actor, ended }, "admin signed out");
      return c.json({ success: true as const, data: { ended } }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/v1/admin/me",
      tags: [TAG],
      summary: "Who the admin credentials belong to",
      security: adminSecurity,
      middleware: [admin] as const,
      responses: okResponse(AdminMeResponseSchema, "The admin identity"),
    }),
    (c) => {
      const who = c.get("admin");
      return c.json(
        {
          success: true as const,
          data: { actor: who.actor, via: who.via, expires_at: who.expiresAt?.toISOString() ?? null },
        },
        200,
      );
    },
  );

  // ---------------------------------------------------------------- reads
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/v1/admin/dashboard",
      tags: [TAG],
      summary: "Active subscriptions, MRR, renewals, payments today, stuck sessions, unknown outcomes",
      security: adminSecurity,
      middleware: [admin] as const,
      responses: okResponse(AdminDashboardSchema, "The dashboard figures"),
    }),
    async (c) => c.json({ success: true as const, data: await dashboard(c.get("deps")) }, 200),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/v1/admin/payment-sessions",
      tags: [TAG],
      summary: "Payment sessions (filter by status; search Telegram id, username, card mask)",
      security: adminSecurity,
      middleware: [admin] as const,
      request: { query: AdminPaymentSessionsQuerySchema },
      responses: okResponse(AdminPaymentSessionListSchema, "A page of sessions"),
    }),
    async (c) =>
      c.json(
        { success: true as const, data: await paymentSessionsPage(c.get("deps"), c.req.valid("query")) },
        200,
      ),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/v1/admin/payments",
      tags: [TAG],
      summary: "Payments (filter by status, kind; search Telegram id, username, card mask)",
      security: adminSecurity,
      middleware: [admin] as const,
      request: { query: AdminPaymentsQuerySchema },
      responses: okResponse(AdminPaymentListSchema, "A page of payments"),
    }),
    async (c) =>
      c.json({ success: true as const, data: await paymentsPage(c.get("deps"), c.req.valid("query")) }, 200),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/v1/admin/subscriptions",
      tags: [TAG],
      summary: "Subscriptions (filter by status, auto_renew; search Telegram id, username, card mask)",
      security: adminSecurity,
      middleware: [admin] as const,
      request: { query: AdminSubscriptionsQuerySchema },
      responses: okResponse(AdminSubscriptionListSchema, "A page of subscriptions"),
    }),
    async (c) =>
      c.json(
        { success: true as const, data: await subscriptionsPage(c.get("deps"), c.req.valid("query")) },
        200,
      ),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/v1/admin/cards",
      tags: [TAG],
      summary: "Bound cards, masked (filter by active; search Telegram id, username, card mask)",
      security: adminSecurity,
      middleware: [admin] as const,
      request: { query: AdminCardsQuerySchema },
      responses: okResponse(AdminCardListSchema, "A page of cards"),
    }),
    async (c) =>
      c.json({ success: true as const, data: await cardsPage(c.get("deps"), c.req.valid("query")) }, 200),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/v1/admin/users",
      tags: [TAG],
      summary: "Users (filter by role; search Telegram id, username)",
      security: adminSecurity,
      middleware: [admin] as const,
      request: { query: AdminUsersQuerySchema },
      responses: okResponse(AdminUserListSchema, "A page of users"),
    }),
    async (c) =>
      c.json({ success: true as const, data: await usersPage(c.get("deps"), c.req.valid("query")) }, 200),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/v1/admin/audit-log",
      tags: [TAG],
      summary: "Audit log, newest first (filter by entity, actor, action)",
      security: adminSecurity,
      middleware: [admin] as const,
      request: { query: AdminAuditQuerySchema },
      responses: okResponse(AdminAuditListSchema, "A page of audit rows"),
    }),
    async (c) =>
      c.json({ success: true as const, data: await auditPage(c.get("deps"), c.req.valid("query")) }, 200),
  );

  // ---------------------------------------------------------------- one file per endpoint (admin/endpoints)
  registerAdminDashboardSeries(app, admin);
  registerAdminPlansList(app, admin);
  registerAdminPlansCreate(app, admin);
  registerAdminPlansEdit(app, admin);
  registerAdminPlansPrice(app, admin);
  registerAdminEventDeliveriesList(app, admin);
  registerAdminEventDeliveriesResend(app, admin);

  // ---------------------------------------------------------------- actions
  const action = <P extends string>(path: P, summary: string) =>
    createRoute({
      method: "post",
      path,
      tags: [TAG],
      summary,
      security: adminSecurity,
      middleware: [admin, idempotency] as const,
      request: { headers: idempotencyHeader, params: idParams, body: jsonBody(AdminActionRequestSchema) },
      responses: okResponse(AdminCardActionResponseSchema, "The card after the action"),
    });

  app.openapi(
    action("/api/v1/admin/cards/{id}/deactivate", "Deactivate a bound card (renewals skip it)"),
    async (c) => {
      const data = await setCardActive(
        c.get("deps"),
        c.get("admin"),
        c.req.valid("param").id,
        false,
        c.req.valid("json").reason,
      );
      return c.json({ success: true as const, data }, 200);
    },
  );
  app.openapi(
    action("/api/v1/admin/cards/{id}/reactivate", "Reactivate a deactivated (not removed) card"),
    async (c) => {
      const data = await setCardActive(
        c.get("deps"),
        c.get("admin"),
        c.req.valid("param").id,
        true,
        c.req.valid("json").reason,
      );
      return c.json({ success: true as const, data }, 200);
    },
  );
  app.openapi(
    action(
      "/api/v1/admin/cards/{id}/remove",
      "Remove a card at ATMOS; subscriptions using it stop auto-renewing",
    ),
    async (c) => {
      const data = await removeCardAtAtmos(
        c.get("deps"),
        c.get("admin"),
        c.req.valid("param").id,
        c.req.valid("json").reason,
      );
      return c.json({ success: true as const, data }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/v1/admin/payments/{id}/refund",
      tags: [TAG],
      summary: "Refund (ATMOS reverse) a successful payment; the subscription loses that period",
      security: adminSecurity,
      middleware: [admin, idempotency] as const,
      request: { headers: idempotencyHeader, params: idParams, body: jsonBody(AdminActionRequestSchema) },
      responses: okResponse(AdminRefundResponseSchema, "The refunded payment and its subscription"),
    }),
    async (c) => {
      const data = await refundPayment(
        c.get("deps"),
        c.get("admin"),
        c.req.valid("param").id,
        c.req.valid("json").reason,
      );
      return c.json({ success: true as const, data }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/v1/admin/subscriptions/{id}/extend",
      tags: [TAG],
      summary: "Extend a live subscription by N days",
      security: adminSecurity,
      middleware: [admin, idempotency] as const,
      request: { headers: idempotencyHeader, params: idParams, body: jsonBody(AdminExtendRequestSchema) },
      responses: okResponse(AdminSubscriptionActionResponseSchema, "The subscription"),
    }),
    async (c) => {
      const body = c.req.valid("json");
      const data = await extendSubscription(
        c.get("deps"),
        c.get("admin"),
        c.req.valid("param").id,
        body.days,
        body.reason,
      );
      return c.json({ success: true as const, data }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/v1/admin/subscriptions/{id}/cancel",
      tags: [TAG],
      summary: "Cancel a subscription now: status canceled, auto-renew off, role back to user",
      security: adminSecurity,
      middleware: [admin, idempotency] as const,
      request: { headers: idempotencyHeader, params: idParams, body: jsonBody(AdminActionRequestSchema) },
      responses: okResponse(AdminSubscriptionActionResponseSchema, "The subscription"),
    }),
    async (c) => {
      const data = await cancelSubscriptionNow(
        c.get("deps"),
        c.get("admin"),
        c.req.valid("param").id,
        c.req.valid("json").reason,
      );
      return c.json({ success: true as const, data }, 200);
    },
  );
}
