import { index, jsonb, pgTable, text } from "drizzle-orm/pg-core";
import { identityId, timestamptz } from "./columns";

/** Who did what, why and when — written in the same transaction as the action. */
export const auditLog = pgTable(
  "audit_log",
  {
    id: identityId(),
    actor: text().notNull(),
    action: text().notNull(),
    entityType: text().notNull(),
    entityId: text().notNull(),
    reason: text(),
    details: jsonb(),
    createdAt: timestamptz().notNull().defaultNow(),
  },
  (t) => [
    index("audit_log_entity_idx").on(t.entityType, t.entityId),
    index("audit_log_created_at_idx").on(t.createdAt),
  ],
);
