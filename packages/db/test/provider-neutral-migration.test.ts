import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureDatabase, MIGRATIONS_FOLDER, migrateDatabase } from "../src/migrate";
import { dropDatabase, testDatabaseUrl } from "../src/testing/index";

// 0013 renames the ATMOS-named bigint id columns to provider-neutral text columns and adds
// `provider`: rows written before it must keep their ids (as the digits String(n) writes) and read
// as ATMOS rows. Built from nothing: migrations up to 0012, rows with bigint ids, then the rest.
const url = testDatabaseUrl("db_provider_neutral");
const LAST_BEFORE = "0012_seed_plan_stars_prices";

/** A copy of the migrations folder whose journal ends at `lastTag`. */
function migrationsUpTo(lastTag: string): string {
  const dir = mkdtempSync(join(tmpdir(), "obuna-migrations-"));
  cpSync(MIGRATIONS_FOLDER, dir, { recursive: true });
  const journalPath = join(dir, "meta", "_journal.json");
  const journal = JSON.parse(readFileSync(journalPath, "utf8")) as {
    entries: { idx: number; tag: string }[];
  };
  const last = journal.entries.findIndex((e) => e.tag === lastTag);
  if (last < 0) throw new Error(`no migration ${lastTag}`);
  journal.entries = journal.entries.slice(0, last + 1);
  writeFileSync(journalPath, JSON.stringify(journal));
  return dir;
}

describe("migration 0013: provider-neutral columns", () => {
  let sql: postgres.Sql;
  const big = 9_007_199_254_740_000; // beyond 2^32, still a safe JS integer: ATMOS ids are bigint

  beforeAll(async () => {
    await dropDatabase(url);
    await ensureDatabase(url);
    const folder = migrationsUpTo(LAST_BEFORE);
    const client = postgres(url, { max: 1, onnotice: () => {} });
    try {
      await migrate(drizzle(client), { migrationsFolder: folder });
    } finally {
      await client.end({ timeout: 5 });
      rmSync(folder, { recursive: true, force: true });
    }
    sql = postgres(url, { max: 1, onnotice: () => {} });

    // Rows as the code before 0013 wrote them: ATMOS ids in bigint columns with ATMOS names.
    const [user] = await sql`insert into users (telegram_id) values (7001) returning id`;
    const [plan] = await sql`
      insert into plans (slug, name_uz, name_ru, name_en, price, duration_days)
      values ('mig-monthly', 'Oylik', 'Месяц', 'Monthly', 2900000, 30) returning id`;
    const [session] = await sql`
      insert into payment_sessions
        (user_id, plan_id, amount, expires_at, transaction_id, atmos_account, bind_transaction_id, bind_card_id)
      values (${user!.id}, ${plan!.id}, 2900000, now() + interval '30 minutes',
        ${big}, 'obuna-account-1', 4242, 1579076)
      returning id`;
    const [sub] = await sql`
      insert into subscriptions (user_id, plan_id, start_date, end_date)
      values (${user!.id}, ${plan!.id}, now(), now() + interval '30 days') returning id`;
    await sql`
      insert into bound_cards (user_id, card_token, card_id, pan_masked, expiry, card_type)
      values (${user!.id}, 'enc-token', 1579076, '986009******1840', '2912', 'humo')`;
    await sql`
      insert into payments (user_id, session_id, kind, status, amount, transaction_id, success_trans_id, idempotency_key)
      values (${user!.id}, ${session!.id}, 'initial', 'success', 2900000, ${big}, ${big + 1}, 'session:mig')`;
    await sql`
      insert into renewal_attempts (subscription_id, period_end, attempt_number, amount, transaction_id)
      values (${sub!.id}, now() + interval '30 days', 1, 2900000, 555000111)`;
    await sql`
      insert into atmos_callbacks (transaction_id, account, amount, sign_valid, reply_status, reply_message, body)
      values (${big}, 'obuna-account-1', 2900000, true, 1, 'Успешно', '{}'::jsonb)`;

    await migrateDatabase(url); // the rest: 0013 and whatever follows
  });

  afterAll(async () => {
    await sql?.end({ timeout: 5 });
    await dropDatabase(url);
  });

  it("keeps a payment session's ids, as text, and marks it an ATMOS session", async () => {
    const [row] = await sql`
      select provider, external_id, provider_reference, binding_id, bind_card_ref from payment_sessions`;
    expect(row).toEqual({
      provider: "atmos",
      external_id: String(big),
      provider_reference: "obuna-account-1",
      binding_id: "4242",
      bind_card_ref: "1579076",
    });
  });

  it("keeps a payment's transaction and settlement ids, as text", async () => {
    const [row] = await sql`select provider, external_id, settlement_id from payments`;
    expect(row).toEqual({ provider: "atmos", external_id: String(big), settlement_id: String(big + 1) });
  });

  it("keeps a renewal attempt's and a bound card's ids, as text, from ATMOS", async () => {
    const [attempt] = await sql`select provider, external_id from renewal_attempts`;
    expect(attempt).toEqual({ provider: "atmos", external_id: "555000111" });
    const [card] = await sql`select provider, card_ref from bound_cards`;
    expect(card).toEqual({ provider: "atmos", card_ref: "1579076" });
  });

  it("moves the stored callbacks to provider_callbacks, ids as text", async () => {
    const [row] = await sql`select provider, external_id, account, amount from provider_callbacks`;
    expect(row).toEqual({
      provider: "atmos",
      external_id: String(big),
      account: "obuna-account-1",
      amount: "2900000",
    });
    const [old] = await sql`select to_regclass('public.atmos_callbacks') as t`;
    expect(old!.t).toBeNull();
    // The identity still counts on from the rows that were there.
    const [next] = await sql`
      insert into provider_callbacks (sign_valid, reply_status, reply_message, body)
      values (false, 0, 'x', '{}'::jsonb) returning id, provider`;
    expect(Number(next!.id)).toBe(2);
    expect(next!.provider).toBe("atmos");
  });

  it("keeps the uniqueness rules under the new names", async () => {
    const indexes = await sql<{ indexname: string }[]>`
      select indexname from pg_indexes where schemaname = 'public'
        and tablename in ('payment_sessions', 'payments', 'bound_cards', 'provider_callbacks')`;
    const names = indexes.map((i) => i.indexname);
    expect(names).toEqual(
      expect.arrayContaining([
        "payment_sessions_externalId_unique",
        "payment_sessions_providerReference_unique",
        "payments_external_id_idx",
        "bound_cards_user_id_provider_card_ref_key",
        "bound_cards_provider_card_ref_idx",
        "provider_callbacks_external_id_idx",
        "provider_callbacks_received_at_idx",
      ]),
    );
    expect(names.filter((n) => /transaction|atmos|card_id/i.test(n))).toEqual([]);
    // The same card twice for one user is still refused.
    const [user] = await sql`select id from users`;
    await expect(sql`
      insert into bound_cards (user_id, card_token, card_ref, pan_masked, expiry, card_type)
      values (${user!.id}, 'enc-2', '1579076', '986009******1840', '2912', 'humo')`).rejects.toMatchObject({
      code: "23505",
    });
  });
});
