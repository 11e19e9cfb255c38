import type { AtmosClient } from "@obuna/atmos";
import type { NotificationJob } from "@obuna/contracts/jobs";
import type { CardTokenKey, Database } from "@obuna/db";
import type { Logger } from "pino";
import type { RenewalPolicy } from "../env";

/** What the renewal logic needs; every function below takes it, so tests call them directly. */
export interface RenewalContext {
  db: Database;
  atmos: AtmosClient;
  policy: RenewalPolicy;
  cardTokenKey: CardTokenKey;
  /** All time decisions read this clock, never `new Date()`. */
  clock: () => Date;
  logger: Logger;
  /** Puts a notification on QUEUES.notifications with a deterministic job id. */
  notify: (job: NotificationJob, discriminator: string | number) => Promise<void>;
}

/** Postgres unique violation, also when wrapped by drizzle. */
export function isUniqueViolation(error: unknown): boolean {
  for (let e: unknown = error; e && typeof e === "object"; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === "23505") return true;
  }
  return false;
}
