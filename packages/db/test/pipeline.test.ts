import { eq, sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { createDb } from "../src/client";
import { pipelined } from "../src/pipeline";
import { listPeriodAttempts, lockSubscription } from "../src/queries/index";
import { auditLog, renewalAttempts } from "../src/schema/index";
import { testDatabaseUrl } from "../src/testing/index";
import { subscriptionMaker } from "./fixtures";

/**
 * `pipelined` (src/pipeline.ts): statements of one transaction sent together. They must run in the
 * order issued, and the transaction must not end while one of them could still issue a statement.
 */
const handle = createDb(testDatabaseUrl("db"), { max: 4 });
const { db } = handle;
const makeSubscription = subscriptionMaker(db, 7_600_000_000);
const newSubscription = async () => (await makeSubscription()).sub;

afterAll(() => handle.close());

describe("pipelined statements", () => {
  it("run in the order issued: a read sent after a lock sees what the lock's holder committed", async () => {
    const sub = await newSubscription();
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const first = db.transaction(async (tx) => {
      await lockSubscription(tx, sub.id);
      await tx
        .insert(renewalAttempts)
        .values({ subscriptionId: sub.id, periodEnd: sub.endDate, attemptNumber: 1, amount: 100 });
      locked();
      await held;
    });
    await isLocked;
    const second = db.transaction((tx) =>
      pipelined([lockSubscription(tx, sub.id), listPeriodAttempts(tx, sub.id, sub.endDate)]),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    release();
    await first;
    const [row, attempts] = await second;
    expect(row?.id).toBe(sub.id);
    expect(attempts.map((a) => a.attemptNumber)).toEqual([1]);
  });

  it("wait for every chain when one statement fails: nothing runs after the rollback, outside the transaction", async () => {
    const sub = await newSubscription();
    const marker = `pipelined-leak-${sub.id}`;
    const failure = db.transaction((tx) =>
      pipelined([
        tx.execute(sql`select 1 / 0`),
        (async () => {
          // A chain whose next statement comes later (here: after a pause with no statement).
          await new Promise((resolve) => setTimeout(resolve, 100));
          await tx.insert(auditLog).values({
            actor: "test",
            action: marker,
            entityType: "subscription",
            entityId: String(sub.id),
          });
        })(),
      ]),
    );
    // The statement that failed first is the error, not the refusals that followed it (25P02).
    await expect(failure).rejects.toMatchObject({ cause: { code: "22012" } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await db.select().from(auditLog).where(eq(auditLog.action, marker))).toEqual([]);
  });

  it("return every result, in order", async () => {
    const [a, b] = await db.transaction((tx) =>
      pipelined([tx.execute(sql`select 1 as n`), tx.execute(sql`select 'two' as s`)]),
    );
    expect(a[0]).toEqual({ n: 1 });
    expect(b[0]).toEqual({ s: "two" });
  });
});
