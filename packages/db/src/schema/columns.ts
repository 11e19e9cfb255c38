import { bigint, timestamp } from "drizzle-orm/pg-core";

/** Every timestamp is timestamptz, read as a JS Date in UTC. */
export const timestamptz = (name?: string) =>
  name
    ? timestamp(name, { withTimezone: true, mode: "date" })
    : timestamp({ withTimezone: true, mode: "date" });

export const timestamps = {
  createdAt: timestamptz().notNull().defaultNow(),
  updatedAt: timestamptz()
    .notNull()
    .defaultNow()
    .$onUpdate(() => new Date()),
};

/** Integer tiyin (1 so'm = 100 tiyin), safe as a JS number up to 9e15. */
export const tiyin = () => bigint({ mode: "number" });

export const identityId = () => bigint({ mode: "number" }).primaryKey().generatedByDefaultAsIdentity();
export const refId = () => bigint({ mode: "number" });
