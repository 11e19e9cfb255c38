/**
 * Scenario 1: 1 000 due renewals while the renewals worker is SIGKILLed at random moments 20 times
 * and restarted each time.
 */
import { randomInt } from "node:crypto";
import { createDb } from "@obuna/db";
import { checkEndState } from "../check";
import {
  type Child,
  flushChaosRedis,
  NO_FAULTS,
  prepareChaosDatabase,
  seedDueSubscriptions,
  sleep,
  startChaosSandbox,
  startRenewals,
} from "../harness";
import { renewalProgress, settleRenewals } from "../renewals-settle";
import type { Log, ScenarioResult } from "./types";

export const KILL_SUBSCRIPTIONS = 1_000;
export const KILLS = 20;

export async function killWorkerScenario(log: Log): Promise<Omit<ScenarioResult, "seconds">> {
  const databaseUrl = await prepareChaosDatabase();
  await flushChaosRedis();
  // A little latency so that kills land in the middle of ATMOS calls, not between charges.
  const sandbox = await startChaosSandbox({ latencyMs: 25 });
  const handle = createDb(databaseUrl, { max: 8 });
  let worker: Child | null = null;
  try {
    const seeded = await seedDueSubscriptions(handle, sandbox, {
      count: KILL_SUBSCRIPTIONS,
      telegramBase: 7_100_000_000,
    });
    log(`  seeded ${seeded.size} due subscriptions`);
    const start = () =>
      startRenewals({
        databaseUrl,
        atmosUrl: sandbox.url,
        logFile: "kill-worker.renewals.log",
        concurrency: 10,
      });
    worker = await start();
    const killedAt: string[] = [];
    for (let i = 1; i <= KILLS; i++) {
      await sleep(randomInt(150, 1_800));
      const p = await renewalProgress(handle);
      await worker.kill();
      killedAt.push(`${p.success}/${p.open}`);
      log(`  SIGKILL ${i}/${KILLS}: renewed ${p.success}, open attempts ${p.open}, due ${p.due}`);
      worker = await start();
    }
    const settled = await settleRenewals({
      handle,
      sandbox,
      databaseUrl,
      worker,
      startWorker: start,
      log,
    });
    worker = null;
    sandbox.configure(NO_FAULTS);
    const { counts, problems, ledgerStates } = await checkEndState(handle, sandbox, seeded);
    const violations: string[] = [];
    if (settled.success !== KILL_SUBSCRIPTIONS) {
      violations.push(`${settled.success} of ${KILL_SUBSCRIPTIONS} subscriptions renewed`);
    }
    return {
      name: "kill-worker",
      facts: {
        "due renewals": KILL_SUBSCRIPTIONS,
        SIGKILLs: KILLS,
        renewed: settled.success,
        "janitor runs (moved in time)": settled.janitorRuns,
      },
      counts,
      ledgerStates,
      violations,
      problems,
    };
  } finally {
    await worker?.kill();
    await handle.close();
    await sandbox.close();
  }
}
