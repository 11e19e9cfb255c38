import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { createDb } from "../src/client";
import { upsertTelegramUser } from "../src/queries/index";
import { dropDatabase, prepareTestDatabase, testDatabaseUrl } from "../src/testing/index";

const infra = fileURLToPath(new URL("../../../infra", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "obuna-backup-"));
const source = testDatabaseUrl("db_backup_source");
const restored = testDatabaseUrl("db_backup_restored");

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await dropDatabase(source);
  await dropDatabase(restored);
});

async function rowCounts(url: string) {
  const sql = postgres(url, { max: 1 });
  try {
    const tables = await sql<{ table_name: string }[]>`
      select table_name from information_schema.tables where table_schema = 'public' order by 1`;
    const counts: Record<string, number> = {};
    for (const { table_name } of tables) {
      const [row] = await sql.unsafe(`select count(*)::int as n from "${table_name}"`);
      counts[table_name] = row!.n;
    }
    return counts;
  } finally {
    await sql.end();
  }
}

describe("infra/backup.sh and infra/restore.sh", () => {
  it("backs up, rotates, and restores into a fresh database with the same row counts", async () => {
    await prepareTestDatabase("db_backup_source");
    const handle = createDb(source, { max: 1 });
    for (let i = 0; i < 5; i++) await upsertTelegramUser(handle.db, { telegramId: 9_100_000_000 + i });
    await handle.close();

    const env = { ...process.env, DATABASE_URL: source };
    for (let i = 0; i < 3; i++) {
      execFileSync("bash", [join(infra, "backup.sh"), "--dir", dir, "--keep", "2"], { env, stdio: "pipe" });
      await new Promise((r) => setTimeout(r, 1100)); // dumps are named by the second
    }
    const dumps = readdirSync(dir)
      .filter((f) => f.endsWith(".dump"))
      .sort();
    expect(dumps).toHaveLength(2); // rotation kept the newest two

    await dropDatabase(restored);
    execFileSync("bash", [join(infra, "restore.sh"), join(dir, dumps.at(-1)!), restored], { stdio: "pipe" });
    const [before, after] = [await rowCounts(source), await rowCounts(restored)];
    expect(after).toEqual(before);
    expect(after.users).toBe(5);
    expect(after.plans).toBe(3);

    // Restoring over a database with tables is refused without --force.
    expect(() =>
      execFileSync("bash", [join(infra, "restore.sh"), join(dir, dumps.at(-1)!), restored], {
        stdio: "pipe",
      }),
    ).toThrow();
  });
});
