import type { PaymentProvider } from "@obuna/billing";
import type { NotificationJob } from "@obuna/contracts/jobs";
import type { CardTokenKey, Database } from "@obuna/db";
import type { RelayResult } from "@obuna/db/queries";
import type { Logger } from "pino";
import type { RenewalPolicy } from "../env";

/** What the renewal logic needs; every function below takes it, so tests call them directly. */
export interface RenewalContext {
  db: Database;
  /** The card rail behind the PaymentProvider port (built in the composition root). */
  provider: PaymentProvider;
  policy: RenewalPolicy;
  cardTokenKey: CardTokenKey;
  /** All time decisions read this clock, never `new Date()`. */
  clock: () => Date;
  logger: Logger;
  /**
   * Puts a notification on QUEUES.notifications with a deterministic job id, directly: for messages
   * whose producer repeats until it succeeds (reminders: enqueue, then mark) or that re-raise
   * themselves (admin alerts). Money events record theirs in the outbox inside their transaction
   * (`recordNotification`) and call `flushNotifications` after the commit.
   */
  notify: (job: NotificationJob, discriminator: string | number) => Promise<void>;
  /** Right after the commit: hands these outbox rows to the queue. Never throws (what is left stays owed). */
  flushNotifications: (jobIds: string[]) => Promise<void>;
  /** Relays every notification owed for over 30 s (run by the maintenance job). */
  relayOwedNotifications: () => Promise<RelayResult>;
}

export { isUniqueViolation } from "@obuna/billing";
