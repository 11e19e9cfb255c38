import { sql } from "drizzle-orm";
import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as schema from "./schema/index";

export type Schema = typeof schema;
/** Drizzle over postgres.js; `$client` is the postgres.js pool, for the rare hot path written as plain SQL. */
export type Database = PostgresJsDatabase<Schema> & { $client: postgres.Sql };
export type Transaction = Parameters<Parameters<Database["transaction"]>[0]>[0];
/** Query helpers take either, so the same helper runs inside or outside a transaction. */
export type DbOrTx = Database | Transaction;

export interface DbOptions {
  /** Pool size (default 10). */
  max?: number;
  /** Set false behind a transaction-mode pooler (PgBouncer). */
  prepare?: boolean;
  /** Name shown in pg_stat_activity. */
  applicationName?: string;
}

export interface DbHandle {
  db: Database;
  client: postgres.Sql;
  close: () => Promise<void>;
}

/** One pool per process, created at start and passed down; nothing connects at import time. */
export function createDb(databaseUrl: string, options: DbOptions = {}): DbHandle {
  const client = postgres(databaseUrl, {
    max: options.max ?? 10,
    prepare: options.prepare ?? true,
    idle_timeout: 30,
    connect_timeout: 10,
    onnotice: () => {},
    connection: { application_name: options.applicationName ?? "obuna" },
  });
  const db = drizzle(client, { schema, casing: "snake_case" });
  return { db, client, close: () => client.end({ timeout: 5 }) };
}

/** One round trip to Postgres (`select 1`): the readiness checks' probe. Throws when it is down. */
export async function pingDatabase(db: DbOrTx): Promise<void> {
  await db.execute(sql`select 1`);
}
