import { signCallback } from "@obuna/atmos";
import { plans, renewalAttempts, subscriptions, users } from "@obuna/db/schema";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CALLBACK_API_KEY, STORE_ID } from "./constants";
import { type Harness, randomTelegramId, startHarness } from "./harness";

// Found by `pnpm chaos` (atmos-faults): ATMOS calls the store's one callback URL for the renewal
// worker's token charges too, and the gateway refused them all ("Invoice not found"), so ATMOS
// declined every renewal with STPIMS-ERR-070.

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

async function renewalAttempt(status: "pending" | "unknown" | "success" | "failed", transactionId: number) {
  const [user] = await h.db.db.insert(users).values({ telegramId: randomTelegramId() }).returning();
  const [plan] = await h.db.db.select().from(plans).where(eq(plans.slug, "monthly"));
  const end = new Date(Date.now() + 3_600_000);
  const [sub] = await h.db.db
    .insert(subscriptions)
    .values({
      userId: user!.id,
      planId: plan!.id,
      status: "active",
      autoRenew: true,
      startDate: new Date(end.getTime() - 30 * 86_400_000),
      endDate: end,
    })
    .returning();
  const [attempt] = await h.db.db
    .insert(renewalAttempts)
    .values({
      subscriptionId: sub!.id,
      periodEnd: end,
      attemptNumber: 1,
      status,
      amount: plan!.price,
      externalId: String(transactionId),
    })
    .returning();
  return { attempt: attempt!, account: `7${String(attempt!.id).padStart(12, "0")}` };
}

async function postCallback(fields: { transaction_id: number; amount: number; account: string }) {
  const body = {
    store_id: STORE_ID,
    transaction_id: String(fields.transaction_id),
    transaction_time: String(Date.now()),
    amount: String(fields.amount),
    account: fields.account,
  };
  const response = await fetch(`${h.baseUrl}/api/v1/atmos/callback`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...body, sign: signCallback(body, CALLBACK_API_KEY, "md5") }),
  });
  return (await response.json()) as { status: number; message: string };
}

describe("ATMOS callback for renewal charges", () => {
  it("accepts the callback of an open renewal attempt (and its replay once paid)", async () => {
    const { attempt, account } = await renewalAttempt("pending", 910_001);
    expect(await postCallback({ transaction_id: 910_001, amount: attempt.amount, account })).toMatchObject({
      status: 1,
    });
    const paid = await renewalAttempt("success", 910_002);
    expect(
      await postCallback({ transaction_id: 910_002, amount: paid.attempt.amount, account: paid.account }),
    ).toMatchObject({ status: 1 });
  });

  it("refuses another transaction, another amount, a closed attempt and an unknown attempt", async () => {
    const { attempt, account } = await renewalAttempt("unknown", 910_003);
    expect(await postCallback({ transaction_id: 910_999, amount: attempt.amount, account })).toMatchObject({
      status: 0,
    });
    expect(
      await postCallback({ transaction_id: 910_003, amount: attempt.amount + 1, account }),
    ).toMatchObject({
      status: 0,
    });
    const closed = await renewalAttempt("failed", 910_004);
    expect(
      await postCallback({ transaction_id: 910_004, amount: closed.attempt.amount, account: closed.account }),
    ).toMatchObject({ status: 0 });
    expect(
      await postCallback({ transaction_id: 910_005, amount: 2_900_000, account: "7999999999999" }),
    ).toMatchObject({ status: 0, message: "Invoice not found" });
  });
});
