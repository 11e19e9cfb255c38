import { NOTIFICATION_JOB_OPTIONS } from "@obuna/contracts/jobs";
import { type OwedNotification, relayNotifications } from "@obuna/db/queries";
import type { GatewayDeps } from "../context";

type Deps = Pick<GatewayDeps, "db" | "notificationsQueue" | "logger" | "clock">;

/** Adds one owed notification to the `notifications` queue under its deterministic job id. */
function enqueueOn(queue: GatewayDeps["notificationsQueue"]) {
  return (n: OwedNotification) =>
    queue.add(n.kind, n.payload, { ...NOTIFICATION_JOB_OPTIONS, jobId: n.jobId });
}

/**
 * Right after the commit that recorded them in the outbox: hands these notifications to the queue.
 * Never throws; what Redis does not take stays owed and the renewals worker's `outbox-relay` job
 * (the one periodic relay of the cluster) sends it later.
 */
export async function flushNotifications(deps: Deps, jobIds: string[]): Promise<void> {
  try {
    const result = await relayNotifications(deps.db, enqueueOn(deps.notificationsQueue), {
      now: deps.clock(),
      jobIds,
    });
    if (result.left > 0) {
      deps.logger.warn({ jobIds, left: result.left }, "notification left in the outbox (queue unavailable)");
    }
  } catch (error) {
    deps.logger.warn({ jobIds, err: (error as Error).message }, "notification left in the outbox");
  }
}
