// Self-contained: this file makes its own card-carrying data (payments through every sandbox card,
// pre-apply calls with Idempotency-Key, a refund, captured log lines, notification jobs), then scans
// every table, a full pg_dump, the logs, the Redis db and runs the operator script, which also tries
// to brute-force card numbers out of the stored idempotency request hashes. Planted card numbers
// (a log line, a Redis key, request hashes in the old unkeyed scheme and with the example key) must
// be found, so the scan is not vacuous. It still runs last (zz) to scan what the earlier files left.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash, createHmac } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAtmosClient } from "@obuna/atmos";
import { findCardNumbers, maskPan } from "@obuna/contracts/card";
import { PUBLISHED_EXAMPLE_SECRETS } from "@obuna/contracts/env";
import { testDatabaseUrl, testRedisUrl } from "@obuna/db/testing";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { IDEMPOTENCY_HASH_KEY, REDIS_DB_INDEX, STORE_ID } from "./constants";
import {
  apply,
  call,
  createSession,
  type Harness,
  prepareSession,
  randomTelegramId,
  SANDBOX_CARDS,
  type SandboxCardName,
  sandboxRail,
  startHarness,
  testGatewayConfig,
  tma,
} from "./harness";

const SCANNER = join(import.meta.dirname, "..", "..", "..", "scripts", "scan-card-numbers.mjs");
const PRE_APPLY = "POST /api/v1/atmos/pre-apply";
const ADMIN_TOKEN = "zz-test-admin-token-0123456789abcdef";

/** Full `pg_dump` (schema + data). Mandatory: pg_dump is on every machine; a failure fails the test. */
function pgDump(): string {
  return execFileSync("pg_dump", ["--no-owner", "--no-privileges", testDatabaseUrl("gateway")], {
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
}

/**
 * The operator script (`scripts/scan-card-numbers.mjs`) over the test database, Redis db and a log
 * dir. IDEMPOTENCY_HASH_KEY is this gateway's real key: the attacker who also stole the key.
 */
function runScanner(logDir: string) {
  return spawnSync(
    process.execPath,
    [
      SCANNER,
      "--database-url",
      testDatabaseUrl("gateway"),
      "--redis-url",
      testRedisUrl(REDIS_DB_INDEX),
      "--logs",
      logDir,
      "--recover-budget-ms",
      "2500",
    ],
    { encoding: "utf8", env: { PATH: process.env.PATH ?? "", IDEMPOTENCY_HASH_KEY } },
  );
}

/** create-link → create → pre-apply with an Idempotency-Key, as the Mini App sends it. */
async function preApplyWithKey(
  h: Harness,
  card: SandboxCardName,
  options: { autoRenew: boolean; key: string; typed?: string },
) {
  const telegramId = randomTelegramId();
  const auth = tma(telegramId);
  const link = await createSession(h, telegramId);
  const session = await call(h, "GET", `/api/v1/payment/session/${link.session_id}`, { auth });
  const created = await call(h, "POST", "/api/v1/atmos/create", {
    auth,
    body: { session_id: link.session_id, amount: session.body.data.amount, auto_renew: options.autoRenew },
  });
  expect(created.status).toBe(200);
  const body = {
    session_id: link.session_id,
    transaction_id: created.body.data.transaction_id as number,
    card_number: options.typed ?? SANDBOX_CARDS[card].pan,
    expiry: SANDBOX_CARDS[card].expiry,
  };
  const pre = await call(h, "POST", "/api/v1/atmos/pre-apply", {
    auth,
    body,
    headers: { "idempotency-key": options.key },
  });
  expect(pre.status, JSON.stringify(pre.body)).toBe(200);
  // The Mini App retrying the same action replays the stored answer.
  const replay = await call(h, "POST", "/api/v1/atmos/pre-apply", {
    auth,
    body,
    headers: { "idempotency-key": options.key },
  });
  expect(replay.headers.get("idempotent-replayed")).toBe("true");
  const prepared = { telegramId, auth, sessionId: link.session_id, transactionId: body.transaction_id };
  const paid = await apply(h, prepared, undefined, { "idempotency-key": `${options.key}-apply` });
  expect(paid.status, JSON.stringify(paid.body)).toBe(200);
  return prepared;
}

let h: Harness;
let adminApp: ReturnType<typeof createApp>;
/** What the earlier test files left in the database (a full suite run; nearly empty when run alone). */
let suiteDump = "";
beforeAll(async () => {
  suiteDump = pgDump();
  h = await startHarness();
  // The admin API on the same database, sandbox, queue and captured log.
  const logger = pino({ level: "debug" }, { write: (line: string) => void h.logLines.push(line) });
  adminApp = createApp(
    {
      db: h.db.db,
      ...sandboxRail(
        createAtmosClient({
          baseUrl: h.sandbox.url,
          consumerKey: "sandbox_consumer_key",
          consumerSecret: "sandbox_consumer_secret",
          storeId: STORE_ID,
          timeoutMs: 5_000,
          retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 },
          logger,
        }),
      ),
      notificationsQueue: h.queue,
      redis: h.redis,
      logger,
      clock: () => new Date(),
      config: testGatewayConfig(),
    },
    { admin: { adminToken: ADMIN_TOKEN, telegramIds: [], sessionTtlS: 3600 } },
  );
});
afterAll(async () => {
  await h?.close();
});

describe("no full card number is stored anywhere", () => {
  it("the database as the earlier test files left it (full pg_dump) holds no card number", () => {
    expect(suiteDump).toContain("CREATE TABLE public.payment_sessions");
    expect(findCardNumbers(suiteDump)).toEqual([]);
  });

  it("after every kind of flow it made itself, no table, log line, job payload or request hash yields a card number", async () => {
    // 1. Payments through every sandbox card (success and every decline), wrong OTP first.
    const names = Object.keys(SANDBOX_CARDS) as SandboxCardName[];
    for (const [index, card] of names.entries()) {
      const prepared = await prepareSession(h, { card, autoRenew: index % 2 === 0 });
      if (prepared.pre.status === 200) {
        await apply(h, prepared, "000000");
        await apply(h, prepared);
      }
    }
    // 2. Card-carrying idempotency records: a bound card (its expiry is then in bound_cards), an
    //    unbound one, and a number typed in groups of four.
    await preApplyWithKey(h, "humo2", { autoRenew: true, key: "zz-pre-apply-bound" });
    await preApplyWithKey(h, "uzcard1", { autoRenew: false, key: "zz-pre-apply-unbound" });
    const grouped = SANDBOX_CARDS.humo3.pan.replace(/(\d{4})(?=\d)/g, "$1 ");
    await preApplyWithKey(h, "humo3", { autoRenew: false, key: "zz-pre-apply-grouped", typed: grouped });
    // 3. A typed-in number that fails validation, and one inside a malformed body.
    const prepared = await prepareSession(h, { card: "humo1" });
    await call(h, "POST", "/api/v1/atmos/pre-apply", {
      auth: prepared.auth,
      body: {
        session_id: prepared.sessionId,
        transaction_id: prepared.transactionId,
        card_number: "4111111111111111",
        expiry: "12/30",
      },
    });
    await call(h, "POST", "/api/v1/atmos/pre-apply", {
      auth: prepared.auth,
      rawBody: '{"card_number":"9860090101014364"',
    });
    // 4. A refund through the admin API.
    const [payment] = await h.db.client<{ id: number }[]>`
      select id from payments where status = 'success' order by id limit 1`;
    const refund = await adminApp.request(`/api/v1/admin/payments/${payment!.id}/refund`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        "content-type": "application/json",
        "idempotency-key": "zz-refund",
      },
      body: JSON.stringify({ reason: "customer asked for a refund" }),
    });
    expect(refund.status, await refund.clone().text()).toBe(200);

    // The data is really there before we scan it.
    const [counts] = await h.db.client<
      { payments: number; reversed: number; bound: number; keyed: number; sessions: number }[]
    >`select
        (select count(*)::int from payments) as payments,
        (select count(*)::int from payments where status = 'reversed') as reversed,
        (select count(*)::int from bound_cards) as bound,
        (select count(*)::int from idempotency_keys where endpoint = ${PRE_APPLY} and response_status = 200) as keyed,
        (select count(*)::int from payment_sessions where card_masked is not null) as sessions`;
    expect(counts).toMatchObject({ reversed: 1, keyed: 3 });
    expect(counts!.payments).toBeGreaterThanOrEqual(8);
    expect(counts!.bound).toBeGreaterThanOrEqual(2);
    expect(counts!.sessions).toBeGreaterThanOrEqual(10);
    expect(h.logLines.join("")).toContain("pre-apply");
    expect(h.logLines.join("")).toContain("refund");

    // Every table, every row, as JSON text.
    const tables = await h.db.client<
      { tablename: string }[]
    >`select tablename from pg_tables where schemaname = 'public'`;
    expect(tables.length).toBeGreaterThanOrEqual(10);
    let dump = "";
    for (const { tablename } of tables) {
      const rows = await h.db.client.unsafe(`select row_to_json(t)::text as row from "${tablename}" t`);
      dump += rows.map((r) => r.row).join("\n");
    }
    expect(dump).toContain("986009******4364");
    expect(findCardNumbers(dump)).toEqual([]);
    const pgDumpText = pgDump();
    expect(pgDumpText).toContain("986009******4364");
    expect(findCardNumbers(pgDumpText)).toEqual([]);

    expect(findCardNumbers(h.logLines.join("\n"))).toEqual([]);
    const jobs = await h.queue.getJobs(["waiting", "delayed", "completed", "failed"]);
    expect(jobs.length).toBeGreaterThan(0);
    expect(findCardNumbers(JSON.stringify(jobs.map((j) => j.data)))).toEqual([]);

    // The operator script over the same database, every key of the Redis db and the captured logs,
    // including the brute force of the three stored pre-apply request hashes.
    const logDir = mkdtempSync(join(tmpdir(), "obuna-gateway-logs-"));
    try {
      writeFileSync(join(logDir, "gateway.log"), h.logLines.join(""));
      const clean = runScanner(logDir);
      expect(clean.stdout + clean.stderr).toContain("0 card numbers found");
      expect(clean.stdout).toMatch(/scanned pg_dump obuna_test_gateway/);
      expect(clean.stdout).toMatch(/scanned redis \/\d+ \([1-9]\d* keys\)/);
      expect(clean.stdout).toContain(
        "scanned idempotency request hashes (3 card-carrying records, 0 recovered)",
      );
      expect(clean.stdout).toMatch(/key zz-pre-apply-bound: not recovered \(\d{6,} candidates/);
      expect(clean.status).toBe(0);

      // It is not vacuous: a card number planted in a log file, in Redis, and request hashes the way
      // the gateway stored them before (unkeyed sha256; an unmasked body keyed with the example key)
      // are found, and the numbers are not printed.
      writeFileSync(join(logDir, "planted.log"), '{"msg":"pan 9860090101014364"}\n');
      await h.redis.set("scan-canary", JSON.stringify({ card: "8600 0691 9540 6311" }));
      const soon = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() + 2, 1));
      const soonExpiry = `${String(soon.getUTCMonth() + 1).padStart(2, "0")}/${String(soon.getUTCFullYear() % 100).padStart(2, "0")}`;
      await plantRequestHash("planted-unkeyed", "8600490744313347", soonExpiry, (text) =>
        createHash("sha256").update(text).digest("hex"),
      );
      // humo2 was bound above, so its expiry is in bound_cards for the attacker to read.
      await plantRequestHash(
        "planted-example-key",
        SANDBOX_CARDS.humo2.pan,
        SANDBOX_CARDS.humo2.expiry,
        (text) =>
          createHmac("sha256", PUBLISHED_EXAMPLE_SECRETS.IDEMPOTENCY_HASH_KEY!).update(text).digest("hex"),
      );
      const planted = runScanner(logDir);
      expect(planted.status).toBe(1);
      expect(planted.stdout).toContain("986009******4364 in log");
      expect(planted.stdout).toContain("860006******6311 in redis key scan-canary");
      expect(planted.stdout).toMatch(
        /CARD NUMBER 860049\*{6}3347 in idempotency_keys\.request_hash of tg:\d+ key planted-unkeyed \(recovered: sha256, unkeyed/,
      );
      expect(planted.stdout).toMatch(
        /CARD NUMBER 986009\*{6}3213 in idempotency_keys\.request_hash of tg:\d+ key planted-example-key \(recovered: HMAC with the published example/,
      );
      expect(planted.stdout).toContain("2 recovered");
      expect(planted.stdout).not.toContain("9860090101014364");
      expect(planted.stdout).not.toContain("8600490744313347");
      expect(planted.stdout).not.toContain(SANDBOX_CARDS.humo2.pan);
    } finally {
      await h.redis.del("scan-canary");
      await h.db.client`delete from idempotency_keys where key like 'planted-%'`;
      rmSync(logDir, { recursive: true, force: true });
    }
  }, 180_000);
});

/**
 * A pre-apply idempotency record as an older or misconfigured gateway stored it: `hash` over the
 * endpoint and the full body, beside the real stored answer (masked card, session and transaction id).
 */
async function plantRequestHash(key: string, pan: string, expiry: string, hash: (text: string) => string) {
  const [session] = await h.db.client<{ id: string; external_id: string; telegram_id: string }[]>`
    select s.id, s.external_id, u.telegram_id from payment_sessions s join users u on u.id = s.user_id
    where s.external_id is not null order by s.created_at desc limit 1`;
  const transactionId = Number(session!.external_id);
  const body = JSON.stringify({
    session_id: session!.id,
    transaction_id: transactionId,
    card_number: pan,
    expiry,
  });
  const response = {
    success: true,
    data: {
      session_id: session!.id,
      transaction_id: transactionId,
      card_masked: maskPan(pan),
      card_type: "humo",
    },
  };
  await h.db.client`
    insert into idempotency_keys (scope, key, endpoint, request_hash, response_status, response_body, created_at, expires_at)
    values (${`tg:${session!.telegram_id}`}, ${key}, ${PRE_APPLY}, ${hash(`${PRE_APPLY}\n${body}`)}, 200,
            ${JSON.stringify(response)}::jsonb, now(), now() + interval '1 day')`;
}
