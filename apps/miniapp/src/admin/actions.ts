/**
 * The actions an admin can take. Each goes through a confirmation page (`/admin/confirm`) that asks
 * for a reason, then `POST /api/admin/action`, which calls the gateway (one audit row per action).
 */
export const ADMIN_ACTIONS = {
  "card.deactivate": {
    title: "Deactivate card",
    entity: "card",
    path: (id: number) => `cards/${id}/deactivate`,
    consequence: "The card stays saved but renewals will not charge it until it is reactivated.",
    danger: false,
  },
  "card.reactivate": {
    title: "Reactivate card",
    entity: "card",
    path: (id: number) => `cards/${id}/reactivate`,
    consequence: "Renewals may charge this card again.",
    danger: false,
  },
  "card.remove": {
    title: "Remove card at ATMOS",
    entity: "card",
    path: (id: number) => `cards/${id}/remove`,
    consequence:
      "The card is removed at ATMOS and cannot be charged again; subscriptions using it stop auto-renewing. This cannot be undone.",
    danger: true,
  },
  "payment.refund": {
    title: "Refund payment",
    entity: "payment",
    path: (id: number) => `payments/${id}/refund`,
    consequence:
      "ATMOS reverses the charge and the money goes back to the card; the subscription loses the period this payment bought (it expires if that period is the current one).",
    danger: true,
  },
  "subscription.extend": {
    title: "Extend subscription",
    entity: "subscription",
    path: (id: number) => `subscriptions/${id}/extend`,
    consequence: "The end date moves forward by the number of days given, free of charge.",
    danger: false,
  },
  "subscription.cancel": {
    title: "Cancel subscription",
    entity: "subscription",
    path: (id: number) => `subscriptions/${id}/cancel`,
    consequence: "Access ends now, auto-renew is switched off and the user loses premium.",
    danger: true,
  },
  "event.resend": {
    title: "Resend event",
    entity: "event delivery",
    path: (id: number) => `event-deliveries/${id}/resend`,
    consequence:
      "The same event (same id and body, signed anew) is sent to this endpoint again within seconds. A receiver that already handled it acknowledges it without acting twice.",
    danger: false,
  },
} as const;

export type AdminActionName = keyof typeof ADMIN_ACTIONS;

export function isAdminAction(value: unknown): value is AdminActionName {
  return typeof value === "string" && Object.hasOwn(ADMIN_ACTIONS, value);
}

/** The confirmation page for an action on a row, coming back to `returnTo` afterwards. */
export function confirmHref(action: AdminActionName, id: number, returnTo: string): string {
  const query = new URLSearchParams({ action, id: String(id), return_to: returnTo });
  return `/admin/confirm?${query.toString()}`;
}

export const REASON_MIN = 3;
export const REASON_MAX = 500;
