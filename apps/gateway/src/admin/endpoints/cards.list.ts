import { AdminCardListSchema, AdminCardsQuerySchema } from "@obuna/contracts/http";
import { createRoute, type GatewayApp, okResponse } from "../../routes/_shared";
import { cardsPage } from "../reads";
import { ADMIN_TAG, type AdminGuard, adminSecurity } from "./_admin";

/** GET /api/v1/admin/cards */
export function registerAdminCardsList(app: GatewayApp, admin: AdminGuard) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/v1/admin/cards",
      tags: [ADMIN_TAG],
      summary: "Bound cards, masked (filter by active; search Telegram id, username, card mask)",
      security: adminSecurity,
      middleware: [admin] as const,
      request: { query: AdminCardsQuerySchema },
      responses: okResponse(AdminCardListSchema, "A page of cards"),
    }),
    async (c) =>
      c.json({ success: true as const, data: await cardsPage(c.get("deps"), c.req.valid("query")) }, 200),
  );
}
