import type { GatewayApp } from "../../routes/_shared";
import type { AdminGuard } from "./_admin";
import { registerAdminCardSetActive } from "./cards.set-active";

/** POST /api/v1/admin/cards/{id}/reactivate (audited; Idempotency-Key). */
export function registerAdminCardsReactivate(app: GatewayApp, admin: AdminGuard) {
  registerAdminCardSetActive(app, admin, {
    active: true,
    summary: "Reactivate a deactivated (not removed) card",
  });
}
