import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findCardNumbers } from "@obuna/contracts/card";
import { testDatabaseUrl, testRedisUrl } from "@obuna/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REDIS_DB_INDEX } from "./constants";
import {
  apply,
  call,
  type Harness,
  prepareSession,
  SANDBOX_CARDS,
  type SandboxCardName,
  startHarness,
} from "./harness";

const SCANNER = join(import.meta.dirname, "..", "..", "..", "scripts", "scan-card-numbers.mjs");

/** Full `pg_dump` (schema + data). Mandatory: pg_dump is on every machine; a failure fails the test. */
function pgDump(): string {
  return execFileSync("pg_dump", ["--no-owner", "--no-privileges", testDatabaseUrl("gateway")], {
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
}

/** The operator script (`scripts/scan-card-numbers.mjs`) over the test database, Redis db and a log dir. */
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
    ],
    { encoding: "utf8", env: { PATH: process.env.PATH ?? "" } },
  );
}

let h: Harness;
/** What the earlier test files (this suite runs in name order, zz last) left in the database. */
let suiteDump = "";
beforeAll(async () => {
  suiteDump = pgDump();
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

describe("no full card number is stored anywhere", () => {
  it("the database as the earlier test files left it (full pg_dump) holds no card number", () => {
    expect(suiteDump).toContain("CREATE TABLE public.payment_sessions");
    expect(findCardNumbers(suiteDump)).toEqual([]);
  });

  it("after every kind of flow, no table, log line or job payload holds a 16-digit Luhn number", async () => {
    const names = Object.keys(SANDBOX_CARDS) as SandboxCardName[];
    for (const [index, card] of names.entries()) {
      const prepared = await prepareSession(h, { card, autoRenew: index % 2 === 0 });
      if (prepared.pre.status === 200) {
        await apply(h, prepared, "000000");
        await apply(h, prepared);
      }
    }
    // A typed-in number that fails validation, and one inside a malformed body.
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

    // The operator script over the same database, every key of the Redis db and the captured logs.
    const logDir = mkdtempSync(join(tmpdir(), "obuna-gateway-logs-"));
    try {
      writeFileSync(join(logDir, "gateway.log"), h.logLines.join(""));
      const clean = runScanner(logDir);
      expect(clean.stdout + clean.stderr).toContain("0 card numbers found");
      expect(clean.stdout).toMatch(/scanned pg_dump obuna_test_gateway/);
      expect(clean.stdout).toMatch(/scanned redis \/\d+ \([1-9]\d* keys\)/);
      expect(clean.status).toBe(0);

      // It is not vacuous: a card number planted in a log file and in Redis is found (and not printed).
      writeFileSync(join(logDir, "planted.log"), '{"msg":"pan 9860090101014364"}\n');
      await h.redis.set("scan-canary", JSON.stringify({ card: "8600 0691 9540 6311" }));
      const planted = runScanner(logDir);
      expect(planted.status).toBe(1);
      expect(planted.stdout).toContain("986009******4364 in log");
      expect(planted.stdout).toContain("860006******6311 in redis key scan-canary");
      expect(planted.stdout).not.toContain("9860090101014364");
    } finally {
      await h.redis.del("scan-canary");
      rmSync(logDir, { recursive: true, force: true });
    }
  });
});
