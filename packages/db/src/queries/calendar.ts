import { sql } from "drizzle-orm";
import type { DbOrTx } from "../client";

/**
 * Calendar days for the admin dashboard's series: Asia/Tashkent days, computed by Postgres. The
 * per-table series (payments, renewal attempts, subscriptions) group by the same days.
 */

export const TASHKENT_TZ = "Asia/Tashkent";

/** One row of a raw SQL report: column name → value as postgres.js returns it. */
export type ReportRow = Record<string, unknown>;

/**
 * The window of the last `days` Tashkent calendar days up to `now`: its first day (`YYYY-MM-DD`),
 * the instant it starts, and every day in it, in order.
 */
export async function tashkentDayWindow(db: DbOrTx, now: Date, days: number) {
  const nowIso = now.toISOString();
  const [window] = (await db.execute(sql`
    select (${nowIso}::timestamptz at time zone ${TASHKENT_TZ})::date - ${days - 1}::int as first_day,
           ((((${nowIso}::timestamptz at time zone ${TASHKENT_TZ})::date - ${days - 1}::int)::timestamp) at time zone ${TASHKENT_TZ}) as since
  `)) as unknown as ReportRow[];
  const since = new Date(String(window!.since));
  const firstDay = String(window!.first_day);

  const dates = (
    (await db.execute(sql`
      select to_char(d, 'YYYY-MM-DD') as date
      from generate_series(${firstDay}::date, (${nowIso}::timestamptz at time zone ${TASHKENT_TZ})::date, interval '1 day') d
      order by d
    `)) as unknown as ReportRow[]
  ).map((r) => String(r.date));
  return { firstDay, since, dates };
}
