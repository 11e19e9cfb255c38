import { createDb } from "@obuna/db";
import { auditLog } from "@obuna/db/schema";
import { testDatabaseUrl } from "@obuna/db/testing";
import { eq } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { writeAudit } from "../src/audit";

const handle = createDb(testDatabaseUrl("billing"), { max: 2 });
afterAll(() => handle.close());

describe("writeAudit", () => {
  it("writes the row in the caller's transaction, and nothing when it rolls back", async () => {
    const now = new Date("2026-12-01T10:00:00Z");
    const id = await handle.db.transaction((tx) =>
      writeAudit(
        tx,
        { actor: "system:test", action: "card.removed", entityType: "bound_card", entityId: 7 },
        now,
      ),
    );
    const [row] = await handle.db.select().from(auditLog).where(eq(auditLog.id, id));
    expect(row).toMatchObject({ actor: "system:test", action: "card.removed", entityId: "7" });

    await expect(
      handle.db.transaction(async (tx) => {
        await writeAudit(
          tx,
          { actor: "system:test", action: "plan.updated", entityType: "plan", entityId: 1 },
          now,
        );
        throw new Error("rolled back");
      }),
    ).rejects.toThrow("rolled back");
    const planRows = await handle.db.select().from(auditLog).where(eq(auditLog.action, "plan.updated"));
    expect(planRows).toHaveLength(0);
  });
});
