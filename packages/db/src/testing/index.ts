import { sql } from "drizzle-orm";
import postgres from "postgres";
import { createDb, type Database, type Transaction } from "../client";
import { migrateDatabase } from "../migrate";
import { seedPlans } from "../seed";

/**
 * Test databases are real Postgres databases, one per package (`obuna_test_<name>`), dropped and
 * rebuilt from the committed migrations at the start of each test run. Never the dev database.
 */
export function testAdminUrl(): string {
  return process.env.TEST_DATABASE_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
}

/**
 * `TEST_DB_SUFFIX` (optional) keeps a second test run on the same machine (e.g. a fresh-clone CI check
 * while developing) from dropping the databases of the first one.
 */
export function testDatabaseUrl(name: string): string {
  const url = new URL(testAdminUrl());
  const suffix = (process.env.TEST_DB_SUFFIX ?? "").replace(/[^a-z0-9_]/gi, "_");
  url.pathname = `/obuna_test_${name.replace(/[^a-z0-9_]/gi, "_")}${suffix}`;
  return url.toString();
}

/**
 * Redis for tests: one logical database per package so suites never share keys.
 * `TEST_REDIS_DB_OFFSET` (optional) shifts every index, for a second concurrent run.
 */
export function testRedisUrl(dbIndex: number): string {
  const base = new URL(process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379");
  base.pathname = `/${dbIndex + Number(process.env.TEST_REDIS_DB_OFFSET ?? 0)}`;
  return base.toString();
}

export async function dropDatabase(databaseUrl: string): Promise<void> {
  const name = new URL(databaseUrl).pathname.slice(1);
  const admin = postgres(testAdminUrl(), { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`drop database if exists "${name}" with (force)`);
  } finally {
    await admin.end({ timeout: 5 });
  }
}

/** Drops, recreates, migrates from zero and seeds the plans. Returns the database URL. */
export async function prepareTestDatabase(name: string, options: { seed?: boolean } = {}): Promise<string> {
  const url = testDatabaseUrl(name);
  await dropDatabase(url);
  await migrateDatabase(url);
  if (options.seed ?? true) {
    const handle = createDb(url, { max: 1 });
    try {
      await seedPlans(handle.db);
    } finally {
      await handle.close();
    }
  }
  return url;
}

/**
 * A transaction left open: `work` runs in it (taking its row locks), then it waits until `commit()`.
 * For tests of what another statement does while those locks are held. `pid` is its backend's.
 */
export async function openTransaction(
  db: Database,
  work: (tx: Transaction) => Promise<unknown>,
): Promise<{ pid: number; commit: () => Promise<void> }> {
  let release!: () => void;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  let opened!: (pid: number) => void;
  let failed!: (error: unknown) => void;
  const isOpen = new Promise<number>((resolve, reject) => {
    opened = resolve;
    failed = reject;
  });
  const done = db.transaction(async (tx) => {
    await work(tx);
    const [row] = (await tx.execute(sql`select pg_backend_pid() as pid`)) as unknown as [{ pid: number }];
    opened(row.pid);
    await held;
  });
  // `work` failing fails the open; a failure at commit is `commit()`'s.
  done.catch(failed);
  const pid = await isOpen;
  return {
    pid,
    commit: async () => {
      release();
      await done;
    },
  };
}

/**
 * Waits until exactly `count` statements wait for a lock the backend `pid` holds (`pg_blocking_pids`);
 * throws after `timeoutMs`. Proves a statement is blocked on a row lock rather than answering from
 * the row version it saw.
 */
export async function waitUntilBlockedBy(db: Database, pid: number, count = 1, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  let blocked = 0;
  while (Date.now() < deadline) {
    const [row] = (await db.execute(
      sql`select count(*)::int as blocked from pg_stat_activity where ${pid}::int = any(pg_blocking_pids(pid))`,
    )) as unknown as [{ blocked: number }];
    blocked = row.blocked;
    if (blocked === count) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`${blocked} statements blocked by backend ${pid} after ${timeoutMs} ms, expected ${count}`);
}
