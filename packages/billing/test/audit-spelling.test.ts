import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { auditLog } from "@obuna/db/schema";
import { asc, inArray } from "drizzle-orm";
import { afterAll, expect, it } from "vitest";
import { AUDIT_ACTIONS } from "../src/audit";
import { db, handle } from "./fixtures";

afterAll(() => handle.close());

const migration = readFileSync(
  fileURLToPath(
    new URL("../../db/migrations/0006_audit_subscription_canceled_spelling.sql", import.meta.url),
  ),
  "utf8",
);

it("the data migration rewrites stored 'subscription.cancelled' rows to the one spelling, keeping them apart", async () => {
  const rows = await db
    .insert(auditLog)
    .values([
      { actor: "tg:1", action: "subscription.cancelled", entityType: "subscription", entityId: "1" },
      {
        actor: "admin:1",
        action: "subscription.canceled",
        entityType: "subscription",
        entityId: "2",
        details: { via: "api" },
      },
    ])
    .returning({ id: auditLog.id });
  await handle.client.unsafe(migration);
  const after = await db
    .select()
    .from(auditLog)
    .where(
      inArray(
        auditLog.id,
        rows.map((r) => r.id),
      ),
    )
    .orderBy(asc(auditLog.id));
  expect(after.map((r) => [r.action, r.details])).toEqual([
    ["subscription.canceled", { autoRenewOff: true }],
    ["subscription.canceled", { via: "api" }],
  ]);
  expect(AUDIT_ACTIONS).not.toContain("subscription.cancelled");
});
