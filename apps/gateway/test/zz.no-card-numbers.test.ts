import { execFileSync } from "node:child_process";
import { findCardNumbers } from "@obuna/contracts/card";
import { testDatabaseUrl } from "@obuna/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  apply,
  call,
  type Harness,
  prepareSession,
  SANDBOX_CARDS,
  type SandboxCardName,
  startHarness,
} from "./harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

function pgDump(): string | null {
  try {
    return execFileSync("pg_dump", ["--data-only", "--no-owner", testDatabaseUrl("gateway")], {
      encoding: "utf8",
      maxBuffer: 256 * 1024 * 1024,
    });
  } catch {
    return null;
  }
}

describe("no full card number is stored anywhere", () => {
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
    if (pgDumpText !== null) expect(findCardNumbers(pgDumpText)).toEqual([]);

    expect(findCardNumbers(h.logLines.join("\n"))).toEqual([]);
    const jobs = await h.queue.getJobs(["waiting", "delayed", "completed", "failed"]);
    expect(jobs.length).toBeGreaterThan(0);
    expect(findCardNumbers(JSON.stringify(jobs.map((j) => j.data)))).toEqual([]);
  });
});
