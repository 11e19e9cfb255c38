import type { GatewayApp } from "../routes/_shared";
import { type AdminConfig, requireAdmin } from "./auth";
import { registerAdminAuditLogList } from "./endpoints/audit-log.list";
import { registerAdminCardsDeactivate } from "./endpoints/cards.deactivate";
import { registerAdminCardsList } from "./endpoints/cards.list";
import { registerAdminCardsReactivate } from "./endpoints/cards.reactivate";
import { registerAdminCardsRemove } from "./endpoints/cards.remove";
import { registerAdminDashboard } from "./endpoints/dashboard.get";
import { registerAdminDashboardSeries } from "./endpoints/dashboard.series";
import { registerAdminEventDeliveriesList } from "./endpoints/event-deliveries.list";
import { registerAdminEventDeliveriesResend } from "./endpoints/event-deliveries.resend";
import { registerAdminMe } from "./endpoints/me.get";
import { registerAdminPaymentSessionsList } from "./endpoints/payment-sessions.list";
import { registerAdminPaymentsList } from "./endpoints/payments.list";
import { registerAdminPaymentsRefund } from "./endpoints/payments.refund";
import { registerAdminPlansCreate } from "./endpoints/plans.create";
import { registerAdminPlansEdit } from "./endpoints/plans.edit";
import { registerAdminPlansList } from "./endpoints/plans.list";
import { registerAdminPlansPrice } from "./endpoints/plans.price";
import { registerAdminSessionLogout } from "./endpoints/session.logout";
import { registerAdminSessionTelegram } from "./endpoints/session.telegram";
import { registerAdminSessionToken } from "./endpoints/session.token";
import { registerAdminSubscriptionsCancel } from "./endpoints/subscriptions.cancel";
import { registerAdminSubscriptionsExtend } from "./endpoints/subscriptions.extend";
import { registerAdminSubscriptionsList } from "./endpoints/subscriptions.list";
import { registerAdminUsersList } from "./endpoints/users.list";

/**
 * `/api/v1/admin/*`: sign-in, dashboard, lists, and the audited actions, one file per endpoint in
 * ./endpoints. Every endpoint but the sign-ins needs admin credentials (see ./auth.ts); every action
 * takes a reason and an optional Idempotency-Key. The order below is the order of the OpenAPI paths.
 */
export function registerAdmin(app: GatewayApp, config: AdminConfig | undefined) {
  app.openAPIRegistry.registerComponent("securitySchemes", "adminToken", {
    type: "http",
    scheme: "bearer",
    description: "ADMIN_TOKEN, or a session token from POST /api/v1/admin/session",
  });
  const admin = requireAdmin(config);
  const adminTelegramExchange = requireAdmin(config, { telegramExchange: true });

  // sign-in
  registerAdminSessionToken(app, config);
  registerAdminSessionTelegram(app, config, adminTelegramExchange);
  registerAdminSessionLogout(app, admin);
  registerAdminMe(app, admin);

  // reads
  registerAdminDashboard(app, admin);
  registerAdminPaymentSessionsList(app, admin);
  registerAdminPaymentsList(app, admin);
  registerAdminSubscriptionsList(app, admin);
  registerAdminCardsList(app, admin);
  registerAdminUsersList(app, admin);
  registerAdminAuditLogList(app, admin);
  registerAdminDashboardSeries(app, admin);

  // plans
  registerAdminPlansList(app, admin);
  registerAdminPlansCreate(app, admin);
  registerAdminPlansEdit(app, admin);
  registerAdminPlansPrice(app, admin);
  registerAdminEventDeliveriesList(app, admin);
  registerAdminEventDeliveriesResend(app, admin);

  // audited actions
  registerAdminCardsDeactivate(app, admin);
  registerAdminCardsReactivate(app, admin);
  registerAdminCardsRemove(app, admin);
  registerAdminPaymentsRefund(app, admin);
  registerAdminSubscriptionsExtend(app, admin);
  registerAdminSubscriptionsCancel(app, admin);
}
