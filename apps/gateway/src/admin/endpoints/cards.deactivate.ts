import type { GatewayApp } from "../../routes/_shared";
import type { AdminGuard } from "./_admin";
import { registerAdminCardSetActive } from "./cards.set-active";

/** POST /api/v1/admin/cards/{id}/deactivate (audited; Idempotency-Key). */
export function registerAdminCardsDeactivate(app: GatewayApp, admin: AdminGuard) {
  registerAdminCardSetActive(app, admin, {
    active: false,
    summary: "Deactivate a bound card (renewals skip it)",
  });
}
