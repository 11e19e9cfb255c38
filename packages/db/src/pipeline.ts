/**
 * Statements of one transaction that depend on nothing each other returns, sent together: issued in
 * the same tick on the transaction's connection, postgres.js writes them in one go and Postgres runs
 * them in the order they were issued (one round trip instead of one each; docs/benchmarks.md,
 * renewals). Each entry is a statement or a chain of them (an async function's promise).
 *
 * Waits for every entry to settle, also when one fails: the transaction must not end (roll back and
 * hand its connection back to the pool) while a chain could still issue its next statement, which
 * postgres.js would then run outside the transaction. After the first failure Postgres refuses the
 * rest (25P02, "current transaction is aborted"), so throws the failure that came first: the first
 * in issue order that is not such a refusal.
 */
export async function pipelined<T extends readonly unknown[]>(
  statements: readonly [...T],
): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(statements);
  const failures = settled.filter((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failures.length > 0) {
    const cause = failures.find((f) => sqlState(f.reason) !== "25P02") ?? failures[0]!;
    throw cause.reason;
  }
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as {
    -readonly [K in keyof T]: Awaited<T[K]>;
  };
}

/** The Postgres error code of a failed statement (drizzle wraps the driver's error as its cause). */
function sqlState(error: unknown): unknown {
  const e = error as { code?: unknown; cause?: { code?: unknown } } | null;
  return e?.code ?? e?.cause?.code;
}
