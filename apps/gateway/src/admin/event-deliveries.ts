import { writeAudit } from "@obuna/billing";
import type { AdminEventDeliveriesQuery, AdminEventDelivery } from "@obuna/contracts/http";
import type { PremiumEvent, PremiumEventAttempt, PremiumEventDelivery } from "@obuna/db";
import { listEventDeliveries, lockEventDelivery, markDeliveryForResend } from "@obuna/db/queries";
import { ApiError } from "../errors";
import type { AdminIdentity } from "./auth";
import { type AdminDeps, adminAudit, countAction } from "./shared";

/**
 * The signed-events delivery log in admin (docs/integration.md "Signed events"): every event × endpoint
 * with its attempts, and a manual resend. The renewals worker does the sending.
 */

function deliveryView(row: {
  delivery: PremiumEventDelivery;
  event: PremiumEvent;
  attempts: PremiumEventAttempt[];
}): AdminEventDelivery {
  const { delivery: d, event: e } = row;
  return {
    id: d.id,
    event_id: e.id,
    event_type: e.type,
    telegram_id: e.telegramId,
    subscription_id: e.subscriptionId,
    endpoint: d.endpoint,
    status: d.status,
    generation: d.generation,
    attempts: d.attempts,
    last_status_code: d.lastStatusCode,
    last_error: d.lastError,
    last_attempt_at: d.lastAttemptAt?.toISOString() ?? null,
    delivered_at: d.deliveredAt?.toISOString() ?? null,
    created_at: d.createdAt.toISOString(),
    payload: e.payload,
    recent_attempts: row.attempts.map((a) => ({
      generation: a.generation,
      status_code: a.statusCode,
      error: a.error,
      duration_ms: a.durationMs,
      created_at: a.createdAt.toISOString(),
    })),
  };
}

export async function eventDeliveriesPage(deps: AdminDeps, q: AdminEventDeliveriesQuery) {
  const { items, total } = await listEventDeliveries(deps.db, {
    limit: q.limit,
    offset: q.offset,
    ...(q.status ? { status: q.status } : {}),
    ...(q.type ? { type: q.type } : {}),
    ...(q.telegram_id !== undefined ? { telegramId: q.telegram_id } : {}),
    ...(q.event_id ? { eventId: q.event_id } : {}),
  });
  return { items: items.map(deliveryView), total, limit: q.limit, offset: q.offset };
}

async function deliveryById(deps: AdminDeps, id: number) {
  const [row] = (await listEventDeliveries(deps.db, { limit: 1, offset: 0, deliveryId: id })).items;
  if (!row) throw new ApiError("NOT_FOUND", "Event delivery not found");
  return deliveryView(row);
}

/**
 * Resend: the delivery gets a new generation and is owed to the queue again (same event id and body,
 * signed anew when sent); the audit row in the same transaction. Any status may be resent: a pending
 * one skips the rest of its backoff.
 */
export async function resendEventDelivery(deps: AdminDeps, admin: AdminIdentity, id: number, reason: string) {
  const now = deps.clock();
  const auditId = await deps.db.transaction(async (tx) => {
    const delivery = await lockEventDelivery(tx, id);
    if (!delivery) throw new ApiError("NOT_FOUND", "Event delivery not found");
    const resent = await markDeliveryForResend(tx, id, now);
    return writeAudit(
      tx,
      adminAudit(admin, {
        action: "event.resent",
        entityType: "event_delivery",
        entityId: id,
        reason,
        details: {
          eventId: delivery.eventId,
          endpoint: delivery.endpoint,
          previousStatus: delivery.status,
          generation: resent.generation,
        },
      }),
      now,
    );
  });
  countAction(deps, "event.resent", "ok");
  deps.logger.info({ deliveryId: id, actor: admin.actor }, "admin action");
  return { delivery: await deliveryById(deps, id), audit_id: auditId };
}
