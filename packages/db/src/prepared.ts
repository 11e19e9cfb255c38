import { type Column, eq, getTableColumns, type SQL, sql, type Table } from "drizzle-orm";
import type { PgInsertBase, PgTable } from "drizzle-orm/pg-core";
import type { DbOrTx } from "./client";

// biome-ignore lint/suspicious/noExplicitAny: drizzle's insert builder, whatever its table and mode.
type PgInsertBuilder = PgInsertBase<any, any, any>;

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
 * `build` must use `sql.placeholder(...)` for every value that varies: it runs once per process. That
 * includes the `$onUpdate` columns (`updated_at`) of an update: drizzle fills one the `.set()` leaves
 * out with its value at build time, which would then be written on every call.
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

/**
 * A hand-written statement (drizzle's `sql` template, values as `sql.placeholder(...)`) run as a
 * prepared statement like {@link preparedQuery}: for the statements drizzle's builders cannot say
 * (`insert … select … where exists (… for update)`). Rows come back as Postgres names them.
 */
export function preparedSql<TValues extends Record<string, unknown>, TRow>(
  name: string,
  statement: SQL,
): (db: DbOrTx, values: TValues) => Promise<TRow[]> {
  return preparedQuery<TValues, TRow[]>(name, (db) => {
    const dialect = (db as unknown as { dialect: { sqlToQuery(s: SQL): { sql: string; params: unknown[] } } })
      .dialect;
    const query = dialect.sqlToQuery(statement);
    const built: BuiltQuery = {
      queryString: query.sql,
      params: query.params,
      isResponseInArrayMode: () => false,
    };
    return built as unknown as { execute(values?: TValues): Promise<TRow[]> };
  });
}

type Row = Record<string, unknown>;
interface EncodingColumn {
  mapToDriverValue(value: unknown): unknown;
  defaultFn?: () => unknown;
  onUpdateFn?: () => unknown;
  default?: unknown;
}
interface Buildable {
  prepare(name: string): { execute(values?: Row): Promise<unknown> };
}

/** A value drizzle writes as SQL (an expression), not as a bind parameter: such a write is not prepared. */
function isExpression(value: unknown): boolean {
  return typeof value === "object" && value !== null && "getSQL" in value;
}

/** What drizzle would bind for a non-null value of the column (an ISO string for a Date, JSON text…). */
function encode(column: EncodingColumn, value: unknown): unknown {
  return value === null ? null : column.mapToDriverValue(value);
}

/**
 * A write whose columns vary by call (`insert … values(values)`, `update … set(set)`), prepared once
 * per set of columns it is given: the same columns give the same SQL text, built once and run as a
 * prepared statement (as {@link preparedQuery}), the values bound as drizzle would bind them.
 * Columns drizzle fills itself (`$onUpdate`, `$defaultFn`) are filled here on every call, never
 * frozen at build time. A value that is an SQL expression falls back to drizzle's own build (`plain`).
 */
function preparedByColumns<TArgs extends unknown[], TResult>(
  name: string,
  columns: Record<string, EncodingColumn>,
  op: "insert" | "update",
  build: (db: DbOrTx, slots: Row) => Buildable,
  plain: (db: DbOrTx, values: Row, ...args: TArgs) => Promise<TResult>,
  fixed: (...args: TArgs) => Row,
) {
  const byShape = new Map<string, (db: DbOrTx, values: Row) => Promise<unknown>>();
  return async (db: DbOrTx, values: Row, ...args: TArgs): Promise<TResult> => {
    const given = Object.keys(values).filter((k) => values[k] !== undefined);
    if (given.some((k) => isExpression(values[k]))) return plain(db, values, ...args);
    const filled: Row = {};
    for (const [key, column] of Object.entries(columns)) {
      if (values[key] !== undefined) continue;
      if (op === "update" && column.onUpdateFn) filled[key] = column.onUpdateFn();
      else if (op === "insert" && column.defaultFn) filled[key] = column.defaultFn();
      else if (op === "insert" && column.default === undefined && column.onUpdateFn)
        filled[key] = column.onUpdateFn();
    }
    const keys = [...given, ...Object.keys(filled)];
    if (keys.some((k) => !(k in columns)) || Object.values(filled).some(isExpression))
      return plain(db, values, ...args);
    const shape = keys.join(",");
    let run = byShape.get(shape);
    if (!run) {
      const statement = `${name}_${byShape.size}`;
      run = preparedQuery(statement, (handle) =>
        build(handle, Object.fromEntries(keys.map((k) => [k, sql`${sql.placeholder(k)}`]))).prepare(
          statement,
        ),
      );
      byShape.set(shape, run);
    }
    const bound: Row = fixed(...args);
    for (const key of given) bound[key] = encode(columns[key]!, values[key]);
    for (const [key, value] of Object.entries(filled)) bound[key] = encode(columns[key]!, value);
    return (await run(db, bound)) as TResult;
  };
}

/**
 * `insert into <table> values (…) [finish: on conflict…, returning…]`, prepared per set of columns
 * (see preparedByColumns). `finish` must not use the values: it is built once.
 */
export function preparedInsert<TResult>(
  name: string,
  table: Table,
  finish: (insert: PgInsertBuilder) => Buildable,
): (db: DbOrTx, values: Row) => Promise<TResult> {
  const run = preparedByColumns<[], TResult>(
    name,
    getTableColumns(table) as unknown as Record<string, EncodingColumn>,
    "insert",
    (db, slots) => finish(db.insert(table as PgTable).values(slots as never) as unknown as PgInsertBuilder),
    (db, values) =>
      finish(
        db.insert(table as PgTable).values(values as never) as unknown as PgInsertBuilder,
      ) as unknown as Promise<TResult>,
    () => ({}),
  );
  return (db, values) => run(db, values);
}

/**
 * `update <table> set (…) where <id column> = $id [finish: returning…]`, prepared per set of
 * columns (see preparedByColumns).
 */
export function preparedUpdateById<TResult = unknown>(
  name: string,
  table: Table,
  idColumn: Column,
): (db: DbOrTx, id: number, set: Row) => Promise<TResult> {
  const run = preparedByColumns<[id: number], TResult>(
    name,
    getTableColumns(table) as unknown as Record<string, EncodingColumn>,
    "update",
    (db, slots) =>
      db
        .update(table as PgTable)
        .set(slots as never)
        .where(eq(idColumn, sql.placeholder("__id"))) as unknown as Buildable,
    (db, values, id) =>
      db
        .update(table as PgTable)
        .set(values as never)
        .where(eq(idColumn, id)) as unknown as Promise<TResult>,
    (id) => ({ __id: id }),
  );
  return (db, id, set) => run(db, set, id);
}
