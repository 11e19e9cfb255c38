import { signObunaEvent } from "@obuna/contracts/events";
import type { EventDeliveryJob } from "@obuna/contracts/jobs";
import type { Database } from "@obuna/db";
import {
  type AttemptVerdict,
  fanOutPremiumEvents,
  getDeliveryToSend,
  type OwedDelivery,
  recordDeliveryAttempt,
  relayOwedDeliveries,
} from "@obuna/db/queries";
import type { Logger } from "pino";

/** A pending delivery queued this long ago without an outcome is handed to the queue again. */
export const EVENT_REQUEUE_AFTER_MS = 10 * 60_000;

/** What delivering signed premium events needs (docs/integration.md "Signed events"). */
export interface EventsContext {
  db: Database;
  clock: () => Date;
  logger: Logger;
  /** EVENTS_ENDPOINTS */
  endpoints: readonly string[];
  /** EVENTS_SIGNING_SECRET (set whenever there are endpoints). */
  signingSecret: string | undefined;
  timeoutMs: number;
  /** Hands deliveries to the `events` queue, one job each (deterministic ids). */
  enqueueDeliveries: (deliveries: OwedDelivery[]) => Promise<unknown>;
}

/**
 * The `events-relay` job: new events get one delivery per endpoint, and every delivery owed to the
 * queue (new, resent by an admin, or queued long ago and still pending) gets its job.
 */
export async function relayPremiumEvents(ctx: EventsContext) {
  const now = ctx.clock();
  const fannedOut = await fanOutPremiumEvents(ctx.db, { endpoints: ctx.endpoints, now });
  const { queued } = await relayOwedDeliveries(ctx.db, ctx.enqueueDeliveries, {
    now,
    requeueAfterMs: EVENT_REQUEUE_AFTER_MS,
  });
  return { fannedOut, queued };
}

export type DeliveryOutcome =
  | { status: "skipped"; reason: "not_found" | "not_pending" | "replaced" }
  | { status: AttemptVerdict; statusCode: number | null; error: string | null };

/** The HTTP status or the error of a failed attempt, thrown so BullMQ retries it with backoff. */
export class EventDeliveryError extends Error {
  constructor(
    message: string,
    readonly statusCode: number | null,
  ) {
    super(message);
    this.name = "EventDeliveryError";
  }
}

/**
 * One attempt of an `event-delivery` job: POST the event's stored body, signed now, to the
 * delivery's endpoint; log the attempt (status code, error, duration) and move the delivery. A 2xx
 * is delivered; anything else (3xx included: redirects are not followed) is retried with backoff
 * until `isLastAttempt`, then `failed`. An older generation's job (an admin resent it) does nothing.
 */
export async function deliverPremiumEvent(
  ctx: EventsContext,
  job: EventDeliveryJob,
  options: { isLastAttempt: boolean },
): Promise<DeliveryOutcome> {
  const found = await getDeliveryToSend(ctx.db, job.deliveryId);
  if (!found) return { status: "skipped", reason: "not_found" };
  const { delivery, event } = found;
  if (delivery.generation !== job.generation) return { status: "skipped", reason: "replaced" };
  if (delivery.status !== "pending") return { status: "skipped", reason: "not_pending" };

  const started = performance.now();
  let statusCode: number | null = null;
  let error: string | null = null;
  if (!ctx.endpoints.includes(delivery.endpoint) || !ctx.signingSecret) {
    error = "endpoint is no longer in EVENTS_ENDPOINTS";
  } else {
    const body = JSON.stringify(event.payload);
    try {
      const response = await fetch(delivery.endpoint, {
        method: "POST",
        redirect: "manual",
        signal: AbortSignal.timeout(ctx.timeoutMs),
        headers: {
          "content-type": "application/json",
          "user-agent": "Obuna-Events/1",
          "obuna-signature": signObunaEvent(body, ctx.signingSecret, ctx.clock()),
          "obuna-event-id": event.id,
          "obuna-event-type": event.type,
        },
        body,
      });
      statusCode = response.status;
      await response.body?.cancel().catch(() => {});
      if (statusCode < 200 || statusCode > 299) error = `endpoint answered ${statusCode}`;
    } catch (caught) {
      const failure = caught as Error & { cause?: { code?: string; message?: string } };
      const cause = failure.cause?.code ?? failure.cause?.message;
      error =
        failure.name === "TimeoutError"
          ? `no answer within ${ctx.timeoutMs} ms`
          : `${failure.message}${cause ? ` (${cause})` : ""}`;
    }
  }
  const durationMs = Math.round(performance.now() - started);
  const permanent = error === "endpoint is no longer in EVENTS_ENDPOINTS";
  const verdict: AttemptVerdict =
    error === null ? "delivered" : options.isLastAttempt || permanent ? "failed" : "retry";
  await recordDeliveryAttempt(ctx.db, {
    deliveryId: delivery.id,
    generation: job.generation,
    statusCode,
    error,
    durationMs,
    verdict,
    now: ctx.clock(),
  });
  ctx.logger.info(
    { deliveryId: delivery.id, eventId: event.id, type: event.type, statusCode, durationMs, verdict },
    "premium event delivery attempt",
  );
  return { status: verdict, statusCode, error };
}
