/**
 * When the renewal charge of a subscription will be tried: one answer for the renewals worker, the
 * gateway's account API (bot /status, Mini App /account) and the reminder.
 */

/** Default hours before end_date that the renewals sweep charges (RENEWAL_LEAD_HOURS). */
export const DEFAULT_RENEWAL_LEAD_HOURS = 24;

export interface RenewalScheduleInput {
  status: "active" | "past_due" | "canceled" | "expired";
  autoRenew: boolean;
  endDate: Date;
  /** The planned retry after a decline (dunning), if any. */
  nextRenewalAt: Date | null;
  /** A saved card that is active and not removed. */
  hasUsableCard: boolean;
}

/**
 * The charge is tried `leadMs` before end_date; in dunning, at the planned retry when that is later.
 * None when auto-renew is off, there is no usable card, or the subscription no longer gives access.
 */
export function nextChargeAt(sub: RenewalScheduleInput, leadMs: number): Date | null {
  if (!sub.autoRenew || !sub.hasUsableCard) return null;
  if (sub.status !== "active" && sub.status !== "past_due") return null;
  const planned = sub.endDate.getTime() - leadMs;
  const retry = sub.nextRenewalAt?.getTime() ?? null;
  return new Date(retry !== null && retry > planned ? retry : planned);
}
