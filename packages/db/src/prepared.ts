import type { DbOrTx } from "./client";

/**
 * What drizzle's `.prepare()` leaves on its prepared query (drizzle-orm 0.45, postgres-js driver):
 * the SQL text, the parameter slots (placeholders included), and how to map result rows.
 */
interface BuiltQuery {
  queryString: string;
  params: unknown[];
  fields?: unknown;
  customResultMapper?: unknown;
  joinsNotNullableMap?: unknown;
  isResponseInArrayMode(): boolean;
}

interface DrizzleSession {
  prepareQuery(
    query: { sql: string; params: unknown[] },
    fields: unknown,
    name: string | undefined,
    isResponseInArrayMode: boolean,
    customResultMapper?: unknown,
  ): { joinsNotNullableMap?: unknown; execute(values?: Record<string, unknown>): Promise<unknown> };
}

/**
 * A query on a hot path, built once and run as a prepared statement on the handle it is given: the
 * pool or a transaction's connection.
 *
 * Drizzle builds a query's SQL on every call (for a one-table select about 80–140 µs of CPU here,
 * a quarter of a renewal charge's worker time, docs/benchmarks.md) and, without `.prepare(name)`,
 * sends it unnamed, so Postgres parses and plans it every time too. `.prepare()` fixes both but
 * binds the query to the handle it was built on, and a transaction is a new handle each time. This
 * keeps what `.prepare()` built (SQL text, parameter slots, row mapping) and hands it to the given
 * handle's own session, so inside a transaction the statement runs on that transaction's connection.
 *
 * `build` must use `sql.placeholder(...)` for every value that varies: it runs once per process.
 * Relies on drizzle's session internals (`session.prepareQuery`); `test/prepared.test.ts` pins the
 * behaviour, so a drizzle upgrade that changes them fails there first.
 */
export function preparedQuery<TValues extends Record<string, unknown>, TResult>(
  name: string,
  build: (db: DbOrTx) => { execute(values?: TValues): Promise<TResult> },
): (db: DbOrTx, values: TValues) => Promise<TResult> {
  let built: BuiltQuery | undefined;
  return (db, values) => {
    built ??= build(db) as unknown as BuiltQuery;
    const session = (db as unknown as { session: DrizzleSession }).session;
    const query = session.prepareQuery(
      { sql: built.queryString, params: built.params },
      built.fields,
      name,
      built.isResponseInArrayMode(),
      built.customResultMapper,
    );
    query.joinsNotNullableMap = built.joinsNotNullableMap;
    return query.execute(values) as Promise<TResult>;
  };
}
