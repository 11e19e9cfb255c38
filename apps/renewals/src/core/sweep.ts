import { type DueRenewal, findDueRenewals } from "@obuna/db/queries";
import type { RenewalContext } from "./deps";

/**
 * Finds every due renewal (keyset pages) and hands each to `enqueue`; returns how many were found.
 * The charge itself re-checks everything under a row lock, so a stale sweep result is harmless.
 */
export async function sweepDueRenewals(
  ctx: Pick<RenewalContext, "db" | "clock" | "policy">,
  enqueue: (due: DueRenewal[]) => Promise<void>,
  options: { pageSize?: number } = {},
): Promise<number> {
  const now = ctx.clock();
  const pageSize = options.pageSize ?? 1000;
  let after: { endDate: Date; id: number } | undefined;
  let total = 0;
  for (;;) {
    const page = await findDueRenewals(ctx.db, { now, leadMs: ctx.policy.leadMs, limit: pageSize, after });
    if (page.length === 0) break;
    await enqueue(page);
    total += page.length;
    if (page.length < pageSize) break;
    const last = page.at(-1)!;
    after = { endDate: last.periodEnd, id: last.subscriptionId };
  }
  return total;
}
