/**
 * The only place `pnpm chaos` reads its own environment. Everything is local and fixed on purpose:
 * a dedicated database (`obuna_chaos`) and Redis logical database (9), never the dev or test ones.
 */
export const CHAOS = {
  /** Admin connection used to drop/create the chaos database. */
  pgAdminUrl: process.env.CHAOS_PG_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
  /** CHAOS_DB_NAME / CHAOS_REDIS_URL: another name and Redis when several people run chaos on one machine. */
  dbName: process.env.CHAOS_DB_NAME ?? "obuna_chaos",
  redisUrl: process.env.CHAOS_REDIS_URL ?? `redis://127.0.0.1:6379/${process.env.CHAOS_REDIS_DB ?? "9"}`,
  /** Scenario "restart" really restarts the machine's Postgres and Redis: opt in explicitly. */
  allowServiceRestart: process.env.CHAOS_ALLOW_RESTART === "1",
  /** Minimal environment handed to child processes (plus their own variables). */
  inherited: {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/tmp",
    NODE_OPTIONS: process.env.NODE_OPTIONS ?? "",
  } as Record<string, string>,
};

export function chaosDatabaseUrl(): string {
  const url = new URL(CHAOS.pgAdminUrl);
  url.pathname = `/${CHAOS.dbName}`;
  return url.toString();
}
