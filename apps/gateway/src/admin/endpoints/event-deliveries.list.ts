import { AdminEventDeliveriesQuerySchema, AdminEventDeliveryListSchema } from "@obuna/contracts/http";
import { createRoute, type GatewayApp, okResponse } from "../../routes/_shared";
import { eventDeliveriesPage } from "../event-deliveries";
import { ADMIN_TAG, type AdminGuard, adminSecurity } from "./_admin";

/** GET /api/v1/admin/event-deliveries — the signed-events delivery log. */
export function registerAdminEventDeliveriesList(app: GatewayApp, admin: AdminGuard) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/v1/admin/event-deliveries",
      tags: [ADMIN_TAG],
      summary:
        "Signed premium events × endpoints, newest first, with their attempts (filter by status, type, Telegram id, event id)",
      security: adminSecurity,
      middleware: [admin] as const,
      request: { query: AdminEventDeliveriesQuerySchema },
      responses: okResponse(AdminEventDeliveryListSchema, "A page of deliveries"),
    }),
    async (c) =>
      c.json(
        { success: true as const, data: await eventDeliveriesPage(c.get("deps"), c.req.valid("query")) },
        200,
      ),
  );
}
