import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type AtmosClient, createAtmosClient } from "@obuna/atmos";
import { paymentSessions, payments, renewalAttempts, subscriptions } from "@obuna/db/schema";
import { testDatabaseUrl, testRedisUrl } from "@obuna/db/testing";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchSandboxLedger, formatReport, reconcile } from "../src/admin/reconcile";
import {
  BOT_TOKEN,
  CALLBACK_API_KEY,
  CARD_TOKEN_KEY_HEX,
  INTERNAL_TOKEN,
  REDIS_DB_INDEX,
  STORE_ID,
} from "./constants";
import {
  apply,
  type Harness,
  prepareSession,
  SANDBOX_CARDS,
  SANDBOX_OTP,
  sandboxRail,
  startHarness,
} from "./harness";

let h: Harness;
let atmos: AtmosClient;
let callbackUrl: string;

beforeAll(async () => {
  h = await startHarness();
  callbackUrl = `${h.baseUrl}/api/v1/checkout/callback`;
  atmos = createAtmosClient({
    baseUrl: h.sandbox.url,
    consumerKey: "sandbox_consumer_key",
    consumerSecret: "sandbox_consumer_secret",
    storeId: STORE_ID,
    retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 },
  });
});
afterAll(async () => {
  await h?.close();
});

function run(since: Date) {
  return reconcile(
    {
      db: h.db.db,
      provider: sandboxRail(atmos).provider,
      storeId: STORE_ID,
      ledger: () => fetchSandboxLedger(h.sandbox.url),
    },
    { since },
  );
}

async function paidSession(card: keyof typeof SANDBOX_CARDS = "humo1", autoRenew = false) {
  const prepared = await prepareSession(h, { card, autoRenew });
  const res = await apply(h, prepared);
  expect(res.body.data.status).toBe("completed");
  const [payment] = await h.db.db.select().from(payments).where(eq(payments.sessionId, prepared.sessionId));
  return { prepared, payment: payment! };
}

/** Charges a card at ATMOS directly, behind the gateway's back (no callback to it). */
async function chargeBehindOurBack(account: string, amount: number) {
  h.sandbox.configure({ callbackUrl: null });
  try {
    const tx = await atmos.createTransaction({ amount, account });
    await atmos.preApplyCard({
      transactionId: tx.transactionId,
      cardNumber: SANDBOX_CARDS.uzcard2.pan,
      expiry: SANDBOX_CARDS.uzcard2.expiry,
    });
    const done = await atmos.apply({ transactionId: tx.transactionId, otp: SANDBOX_OTP });
    expect(done.confirmed).toBe(true);
    return done.transactionId;
  } finally {
    h.sandbox.configure({ callbackUrl });
  }
}

describe("reconcile", () => {
  it("reports nothing after a clean flow (payments, an auto-renew payment, a decline, a refund)", async () => {
    const since = new Date();
    await paidSession("humo1");
    await paidSession("humo2", true);
    const declined = await prepareSession(h, { card: "humo3" });
    h.sandbox.configure({ cardOutcomes: { [SANDBOX_CARDS.humo3.pan]: "insufficient_funds" } });
    try {
      await apply(h, declined);
    } finally {
      h.sandbox.configure({ cardOutcomes: {} });
    }
    const refunded = await paidSession("uzcard1");
    await atmos.reverse({ transactionId: Number(refunded.payment.settlementId!), reason: "test" });
    await h.db.db
      .update(payments)
      .set({ status: "reversed", reversedAt: new Date() })
      .where(eq(payments.id, refunded.payment.id));

    const report = await run(since);
    expect(report.discrepancies, formatReport(report)).toEqual([]);
    expect(report.checkedPayments).toBeGreaterThanOrEqual(4);
    expect(report.checkedLedger).toBeGreaterThanOrEqual(4);
    expect(formatReport(report)).toContain("no discrepancies");
  });

  it("a payment row removed → exactly one lost payment for that transaction", async () => {
    const since = new Date();
    await paidSession("humo1");
    const { prepared, payment } = await paidSession("humo4");
    await h.db.db.delete(payments).where(eq(payments.id, payment.id));
    const report = await run(since);
    expect(report.discrepancies).toHaveLength(1);
    expect(report.discrepancies[0]).toMatchObject({
      kind: "lost_payment",
      transactionId: prepared.transactionId,
      ref: prepared.sessionId,
      ours: "no payment",
    });
    expect(formatReport(report)).toContain("lost payments: 1");
  });

  it("an amount changed → exactly one amount mismatch", async () => {
    const since = new Date();
    const { payment } = await paidSession("uzcard1");
    await h.db.db
      .update(payments)
      .set({ amount: payment.amount + 100 })
      .where(eq(payments.id, payment.id));
    const report = await run(since);
    expect(report.discrepancies).toEqual([
      expect.objectContaining({
        kind: "amount_mismatch",
        paymentId: payment.id,
        transactionId: Number(payment.externalId),
      }),
    ]);
  });

  it("an ATMOS transaction with no row → exactly one lost payment naming its account", async () => {
    const since = new Date();
    await paidSession("humo2");
    const transactionId = await chargeBehindOurBack("990000000001", 1_500_000);
    const report = await run(since);
    expect(report.discrepancies).toEqual([
      expect.objectContaining({
        kind: "lost_payment",
        transactionId,
        ref: "account:990000000001",
        paymentId: null,
      }),
    ]);
  });

  it("two confirmed charges for one session → a double charge (and the extra one is a lost payment)", async () => {
    const since = new Date();
    const { prepared, payment } = await paidSession("humo3");
    const [session] = await h.db.db
      .select()
      .from(paymentSessions)
      .where(eq(paymentSessions.id, prepared.sessionId));
    const extra = await chargeBehindOurBack(session!.providerReference!, payment.amount);
    const report = await run(since);
    const kinds = report.discrepancies.map((d) => d.kind).sort();
    expect(kinds).toEqual(["double_charge", "lost_payment"]);
    expect(report.discrepancies.find((d) => d.kind === "double_charge")).toMatchObject({
      ref: `session:${prepared.sessionId}`,
    });
    expect(report.discrepancies.find((d) => d.kind === "lost_payment")!.transactionId).toBe(extra);
  });

  it("state mismatches, a payment ATMOS never heard of, and an open renewal attempt", async () => {
    const since = new Date();
    const reversedHereOnly = await paidSession("humo1");
    await h.db.db
      .update(payments)
      .set({ status: "reversed" })
      .where(eq(payments.id, reversedHereOnly.payment.id));
    const reversedThereOnly = await paidSession("humo2");
    await atmos.reverse({
      transactionId: Number(reversedThereOnly.payment.settlementId!),
      reason: "behind our back",
    });
    const ghost = await paidSession("uzcard1");
    await h.db.db.update(payments).set({ externalId: "88000001" }).where(eq(payments.id, ghost.payment.id));
    const old = new Date(Date.now() - 3600_000);
    const [attempt] = await h.db.db
      .insert(renewalAttempts)
      .values({
        subscriptionId: reversedThereOnly.payment.subscriptionId!,
        periodEnd: new Date(),
        attemptNumber: 1,
        status: "unknown",
        amount: 2_900_000,
        createdAt: new Date(),
        updatedAt: old,
      })
      .returning();

    const report = await run(since);
    const byPayment = (id: number) =>
      report.discrepancies.filter((d) => d.paymentId === id).map((d) => d.kind);
    expect(byPayment(reversedHereOnly.payment.id)).toEqual(["state_mismatch"]);
    expect(byPayment(reversedThereOnly.payment.id)).toEqual(["state_mismatch"]);
    expect(byPayment(ghost.payment.id)).toEqual(["missing_at_atmos"]);
    // The ghost's real transaction is now a confirmed one without a row.
    expect(report.discrepancies.filter((d) => d.kind === "lost_payment").map((d) => d.transactionId)).toEqual(
      [ghost.prepared.transactionId],
    );
    expect(report.discrepancies.filter((d) => d.kind === "unresolved_outcome")).toEqual([
      expect.objectContaining({ ref: `attempt:${attempt!.id}` }),
    ]);
    expect(report.discrepancies).toHaveLength(5);
    await h.db.db.delete(renewalAttempts).where(eq(renewalAttempts.id, attempt!.id));
    await h.db.db.update(subscriptions).set({ updatedAt: new Date() });
  });

  it("without a ledger (real ATMOS) the ledger checks are skipped with a note", async () => {
    const report = await reconcile(
      { db: h.db.db, provider: sandboxRail(atmos).provider, storeId: STORE_ID, ledger: async () => null },
      { since: new Date() },
    );
    expect(report.checkedLedger).toBeNull();
    expect(report.notes.join(" ")).toMatch(/no ATMOS ledger/);
    expect(await fetchSandboxLedger("http://127.0.0.1:1")).toBeNull();
  });

  it("the CLI prints the table and exits 1 on a discrepancy, 0 when clean, 2 on bad usage", async () => {
    const cli = (args: string[]) =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const child = spawn(
          process.execPath,
          ["--import", "tsx", fileURLToPath(new URL("../src/cli/reconcile.ts", import.meta.url)), ...args],
          {
            cwd: fileURLToPath(new URL("..", import.meta.url)),
            env: {
              PATH: process.env.PATH,
              DATABASE_URL: testDatabaseUrl("gateway"),
              REDIS_URL: testRedisUrl(REDIS_DB_INDEX),
              INTERNAL_API_TOKEN: INTERNAL_TOKEN,
              BOT_TOKEN,
              CARD_TOKEN_KEY: CARD_TOKEN_KEY_HEX,
              ATMOS_BASE_URL: h.sandbox.url,
              ATMOS_CONSUMER_KEY: "sandbox_consumer_key",
              ATMOS_CONSUMER_SECRET: "sandbox_consumer_secret",
              ATMOS_STORE_ID: STORE_ID,
              ATMOS_CALLBACK_API_KEY: CALLBACK_API_KEY,
              LOG_LEVEL: "silent",
            },
          },
        );
        let out = "";
        let err = "";
        child.stdout.on("data", (d) => {
          out += d;
        });
        child.stderr.on("data", (d) => {
          err += d;
        });
        child.on("close", (code) => resolve({ code, out, err }));
      });
    const future = new Date(Date.now() + 60_000).toISOString();
    const clean = await cli(["--since", future]);
    expect(clean.code, clean.err).toBe(0);
    expect(clean.out).toContain("no discrepancies");

    const since = new Date().toISOString();
    const { payment } = await paidSession("humo4");
    await h.db.db
      .update(payments)
      .set({ amount: payment.amount - 1 })
      .where(eq(payments.id, payment.id));
    const dirty = await cli(["--since", since, "--alert"]);
    expect(dirty.code, dirty.err).toBe(1);
    expect(dirty.out).toMatch(/amount_mismatch\s+\d+\s+\d+/);
    expect(dirty.out).toContain("amount mismatches: 1");
    const alerts = (await h.queue.getJobs(["waiting", "delayed", "completed", "failed"])).filter(
      (j) => j.data.kind === "admin_alert" && j.data.alert === "reconciliation",
    );
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.data.text).toContain("amount_mismatch");

    const bad = await cli(["--since", "yesterday-ish"]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("--since");
  });
});
