import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb } from "../src/client";
import { migrateDatabase } from "../src/migrate";
import { PLAN_SEED, seedPlans } from "../src/seed";
import { dropDatabase, testDatabaseUrl } from "../src/testing/index";

// A database of its own, built here from nothing, to prove migrate + seed work on an empty server.
const url = testDatabaseUrl("db_migrations");

describe("migrations on an empty database", () => {
  beforeAll(async () => {
    await dropDatabase(url);
    await migrateDatabase(url); // creates the database too
  });
  afterAll(async () => {
    await dropDatabase(url);
  });

  it("creates every table the seed runbook relies on, and the runbook's four checks run", async () => {
    const sql = postgres(url, { max: 1 });
    try {
      const tables = await sql<{ table_name: string }[]>`
        select table_name from information_schema.tables where table_schema = 'public' order by 1`;
      const names = tables.map((t) => t.table_name);
      for (const t of ["users", "plans", "payment_sessions", "payments", "bound_cards", "subscriptions"]) {
        expect(names).toContain(t);
      }
      // Verbatim from the seed system's runbook.
      await sql.unsafe("SELECT * FROM payment_sessions WHERE status='completed'");
      await sql.unsafe("SELECT * FROM payments WHERE provider='atmos' AND status='success'");
      await sql.unsafe("SELECT * FROM subscriptions WHERE user_id=$1 AND is_active=true", [1]);
      await sql.unsafe("SELECT * FROM bound_cards WHERE user_id=$1 AND is_active=true", [1]);
    } finally {
      await sql.end();
    }
  });

  it("running migrate again is a no-op", async () => {
    await expect(migrateDatabase(url)).resolves.toBeUndefined();
  });

  it("seeds the three plans, and seeding twice changes nothing", async () => {
    const handle = createDb(url, { max: 1 });
    try {
      expect(await seedPlans(handle.db)).toBe(3);
      const before = await handle.client`select * from plans order by id`;
      expect(await seedPlans(handle.db)).toBe(0);
      const after = await handle.client`select * from plans order by id`;
      expect(after).toEqual(before);
      expect(before.map((p) => [p.slug, Number(p.price), p.duration_days])).toEqual(
        PLAN_SEED.map((p) => [p.slug, p.price, p.durationDays]),
      );
      const monthly = before.find((p) => p.slug === "monthly")!;
      expect(monthly.name_uz).toBe("1 Oylik");
      expect(Number(monthly.price)).toBe(2_900_000); // 29 000 so'm in tiyin
    } finally {
      await handle.close();
    }
  });

  it("no column can hold a card number: the only card columns are masked, token and ATMOS ids", async () => {
    const sql = postgres(url, { max: 1 });
    try {
      const cols = await sql<{ column_name: string }[]>`
        select column_name from information_schema.columns where table_schema = 'public'`;
      const names = cols.map((c) => c.column_name);
      expect(names.filter((n) => /pan|card_number/.test(n) && !/masked/.test(n))).toEqual([]);
    } finally {
      await sql.end();
    }
  });
});
