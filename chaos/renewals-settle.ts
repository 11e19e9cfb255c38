/**
 * Brings a renewals run to rest so its end state can be checked. The worker keeps running until
 * nothing is due and no attempt is open; what only the janitor can finish (attempts left `pending`
 * by a killed worker become stale after 5 minutes, `unknown` ones are checked 5 minutes later) is
 * "moved in time": with the worker stopped, their `next_check_at` is set to now and the real janitor
 * code (`runJanitor` of apps/renewals) runs once in this process. Then the worker starts again and
 * the sweep charges whatever the janitor found uncharged.
 */
import type { RunningSandbox } from "@obuna/atmos/sandbox";
import type { DbHandle } from "@obuna/db";
import { findDueRenewals } from "@obuna/db/queries";
import pino from "pino";
import { runJanitor } from "../apps/renewals/src/core/janitor";
import { renewalsEnvSchema } from "../apps/renewals/src/env";
import { createRenewals } from "../apps/renewals/src/renewals";
import { CHAOS } from "./env";
import {
  ADMIN_TOKEN,
  CARD_TOKEN_KEY,
  type Child,
  CONSUMER_KEY,
  CONSUMER_SECRET,
  chaosRail,
  STORE_ID,
  sleep,
} from "./harness";

const DAY = 86_400_000;

export async function renewalProgress(handle: DbHandle) {
  const due = await findDueRenewals(handle.db, { now: new Date(), leadMs: DAY, limit: 100_000 });
  const [row] = await handle.client<{ open: number; success: number }[]>`
    select count(*) filter (where status in ('pending', 'unknown'))::int as open,
           count(*) filter (where status = 'success')::int as success
    from renewal_attempts`;
  return { due: due.length, open: row!.open, success: row!.success };
}

/** Runs the real janitor in this process on every open attempt, as if its check time had come. */
export async function janitorNow(handle: DbHandle, sandbox: RunningSandbox, databaseUrl: string) {
  const config = renewalsEnvSchema.parse({
    DATABASE_URL: databaseUrl,
    REDIS_URL: CHAOS.redisUrl,
    ATMOS_BASE_URL: sandbox.url,
    ATMOS_CONSUMER_KEY: CONSUMER_KEY,
    ATMOS_CONSUMER_SECRET: CONSUMER_SECRET,
    ATMOS_STORE_ID: STORE_ID,
    CARD_TOKEN_KEY,
    ADMIN_TOKEN,
  });
  const renewals = createRenewals({
    db: handle.db,
    provider: chaosRail(sandbox).provider,
    redisUrl: CHAOS.redisUrl,
    config,
    logger: pino({ level: "warn" }),
  });
  const totals = { checked: 0, success: 0, declined: 0, not_charged: 0, rescheduled: 0 };
  try {
    // A transaction still created/pre-applied needs three checks before it is closed as not charged.
    for (let pass = 0; pass < 4; pass++) {
      await handle.client`update renewal_attempts set next_check_at = now()
        where status in ('pending', 'unknown')`;
      const r = await runJanitor(renewals.ctx);
      totals.checked += r.checked;
      totals.success += r.success;
      totals.declined += r.declined;
      totals.not_charged += r.not_charged;
      totals.rescheduled += r.rescheduled;
      if (r.rescheduled === 0) break;
    }
  } finally {
    await renewals.close();
  }
  return totals;
}

export async function settleRenewals(o: {
  handle: DbHandle;
  sandbox: RunningSandbox;
  databaseUrl: string;
  worker: Child | null;
  startWorker: () => Promise<Child>;
  log: (line: string) => void;
  maxRounds?: number;
}) {
  let worker = o.worker;
  let janitorRuns = 0;
  for (let round = 1; round <= (o.maxRounds ?? 5); round++) {
    worker ??= await o.startWorker();
    // Let the worker work until it stops making progress. A charge job a SIGKILLed worker held stays
    // `active` in BullMQ until its lock (60 s) expires and the stalled-job check (every 30 s) hands it
    // back; until then the sweep cannot add it again (same job id). So while subscriptions are due and
    // no attempt is open, wait out that window (100 s) before calling it stuck; otherwise 10 s.
    let last = "";
    let stillSince = Date.now();
    for (;;) {
      const p = await renewalProgress(o.handle);
      if (p.due === 0 && p.open === 0) break;
      const now = JSON.stringify(p);
      if (now !== last) stillSince = Date.now();
      last = now;
      const patienceMs = p.due > 0 && p.open === 0 ? 100_000 : 10_000;
      if (Date.now() - stillSince >= patienceMs) break;
      await sleep(500);
    }
    const p = await renewalProgress(o.handle);
    o.log(`  settle round ${round}: due ${p.due}, open attempts ${p.open}, renewed ${p.success}`);
    if (p.due === 0 && p.open === 0) break;
    await worker.stop();
    worker = null;
    const j = await janitorNow(o.handle, o.sandbox, o.databaseUrl);
    janitorRuns++;
    o.log(
      `  janitor (moved in time): checked ${j.checked}, success ${j.success}, not charged ${j.not_charged}, declined ${j.declined}, rescheduled ${j.rescheduled}`,
    );
  }
  if (worker) await worker.stop();
  return { janitorRuns, ...(await renewalProgress(o.handle)) };
}
