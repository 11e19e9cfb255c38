/**
 * Scenario 2: the ATMOS sandbox answers 10 % of calls with a 5xx, lets 5 % time out, issues tokens
 * that live 3 seconds and loses the answer of 10 % of the applies it charged — while 100 first
 * payments go through the gateway and 300 due subscriptions are renewed by the worker.
 * Afterwards the faults stop, the Mini App polls its sessions (as it does) and renewals settle.
 */
import { randomUUID } from "node:crypto";
import { SANDBOX_OTP, type SandboxConfigPatch } from "@obuna/atmos/sandbox";
import { createDb } from "@obuna/db";
import { checkEndState } from "../check";
import {
  type ApiAnswer,
  type Child,
  flushChaosRedis,
  freePort,
  GatewayCaller,
  internalAuth,
  NO_FAULTS,
  prepareChaosDatabase,
  seedDueSubscriptions,
  settleSessions,
  sleep,
  startChaosSandbox,
  startGateway,
  startRenewals,
} from "../harness";
import { settleRenewals } from "../renewals-settle";
import type { Log, ScenarioResult } from "./types";

export const FAULTS: SandboxConfigPatch = {
  errorRate: 0.1,
  timeoutRate: 0.05,
  tokenTtlSeconds: 3,
  lostApplyRate: 0.1,
  latencyMs: 5,
};
const FIRST_PAYMENTS = 100;
const RENEWALS = 300;

/** The client side of a checkout, as the Mini App does it: same Idempotency-Key on a retry. */
async function retrying(call: (key: string) => Promise<ApiAnswer>, tries = 5): Promise<ApiAnswer> {
  const key = randomUUID();
  let last: ApiAnswer = { status: 0, body: null };
  for (let i = 0; i < tries; i++) {
    last = await call(key);
    if (last.status === 200 || (last.status >= 400 && last.status < 500 && last.status !== 409)) return last;
    await sleep(200 * (i + 1));
  }
  return last;
}

export type Outcome = "completed" | "failed" | "abandoned" | "processing";

export async function firstPayment(
  api: GatewayCaller,
  telegramId: number,
  tally: Map<string, number>,
): Promise<Outcome> {
  const count = (what: string, res: ApiAnswer) => {
    const key = `${what} ${res.status}`;
    tally.set(key, (tally.get(key) ?? 0) + 1);
    return res;
  };
  const auth = GatewayCaller.tma(telegramId);
  const link = count(
    "create-link",
    await retrying((key) =>
      api.call(
        "POST",
        "/api/v1/payment/create-link",
        internalAuth,
        { telegram_id: telegramId, plan_slug: "monthly", first_name: "Chaos", language_code: "ru" },
        { "idempotency-key": key },
      ),
    ),
  );
  if (link.status !== 200) return "abandoned";
  const sessionId = link.body.data.session_id as string;
  const session = await api.call("GET", `/api/v1/payment/session/${sessionId}`, auth);
  if (session.status !== 200) return "abandoned";
  const created = count(
    "create",
    await retrying((key) =>
      api.call(
        "POST",
        "/api/v1/checkout/create",
        auth,
        { session_id: sessionId, amount: session.body.data.amount, auto_renew: telegramId % 2 === 0 },
        { "idempotency-key": key },
      ),
    ),
  );
  if (created.status !== 200) return "abandoned";
  const transactionId = created.body.data.transaction_id as number;
  const pre = count(
    "pre-apply",
    await retrying((key) =>
      api.call(
        "POST",
        "/api/v1/checkout/pre-apply",
        auth,
        {
          session_id: sessionId,
          transaction_id: transactionId,
          card_number: "9860090101842392",
          expiry: "02/28",
        },
        { "idempotency-key": key },
      ),
    ),
  );
  if (pre.status !== 200) return "abandoned";
  const applied = count(
    "apply",
    await retrying((key) =>
      api.call(
        "POST",
        "/api/v1/checkout/apply",
        auth,
        { session_id: sessionId, transaction_id: transactionId, otp: SANDBOX_OTP },
        { "idempotency-key": key },
      ),
    ),
  );
  if (applied.status === 200 && applied.body.data.status === "completed") return "completed";
  // "processing", an error or no answer: the Mini App polls the session (faults keep going meanwhile).
  for (let i = 0; i < 10; i++) {
    const res = await api.call("GET", `/api/v1/payment/session/${sessionId}`, auth);
    const status = res.body?.data?.status;
    if (status === "completed" || status === "failed" || status === "expired") {
      return status === "completed" ? "completed" : "failed";
    }
    if (status === "pending") return "failed";
    await sleep(300);
  }
  return "processing";
}

export async function faultsScenario(log: Log): Promise<Omit<ScenarioResult, "seconds">> {
  const databaseUrl = await prepareChaosDatabase();
  await flushChaosRedis();
  const port = await freePort();
  const sandbox = await startChaosSandbox({
    callbackUrl: `http://127.0.0.1:${port}/api/v1/checkout/callback`,
  });
  const handle = createDb(databaseUrl, { max: 6 });
  let gateway: Child | null = null;
  let worker: Child | null = null;
  try {
    const seeded = await seedDueSubscriptions(handle, sandbox, {
      count: RENEWALS,
      telegramBase: 7_200_000_000,
    });
    gateway = await startGateway({
      databaseUrl,
      atmosUrl: sandbox.url,
      port,
      logFile: "atmos-faults.gateway.log",
      atmosTimeoutMs: 2_000,
    });
    const api = new GatewayCaller(gateway.url, 30_000);
    sandbox.configure(FAULTS);
    log(`  faults on: ${JSON.stringify(FAULTS)}; ${RENEWALS} due renewals, ${FIRST_PAYMENTS} first payments`);
    const start = () =>
      startRenewals({
        databaseUrl,
        atmosUrl: sandbox.url,
        logFile: "atmos-faults.renewals.log",
        concurrency: 10,
        atmosTimeoutMs: 2_000,
      });
    worker = await start();

    const tally = new Map<string, number>();
    const outcomes = new Map<Outcome, number>();
    let next = 0;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        while (next < FIRST_PAYMENTS) {
          const id = 7_300_000_000 + ++next;
          const outcome = await firstPayment(api, id, tally);
          outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        }
      }),
    );
    log(`  first payments under faults: ${[...outcomes].map(([k, v]) => `${k} ${v}`).join(", ")}`);
    const faultsSeen = { "ATMOS calls during the payments": sandbox.requests().length };
    // Let the renewals run under faults a little longer, then stop the faults.
    await sleep(5_000);
    sandbox.configure(NO_FAULTS);

    // The Mini App keeps polling sessions still processing (each GET re-checks ATMOS).
    const processing = await handle.client<{ id: string; telegram_id: number }[]>`
      select s.id, u.telegram_id from payment_sessions s join users u on u.id = s.user_id
      where s.status = 'processing'`;
    for (const s of processing) {
      await api.call("GET", `/api/v1/payment/session/${s.id}`, GatewayCaller.tma(Number(s.telegram_id)));
    }
    const sessionsMovedInTime = await settleSessions(handle, log);
    const settled = await settleRenewals({ handle, sandbox, databaseUrl, worker, startWorker: start, log });
    worker = null;
    const { counts, problems, ledgerStates } = await checkEndState(handle, sandbox, seeded);
    const [{ n: paidFirst }] = (await handle.client<{ n: number }[]>`
      select count(*)::int as n from payments where status = 'success' and kind = 'initial'`) as unknown as [
      { n: number },
    ];
    return {
      name: "atmos-faults",
      facts: {
        "first payments (completed/failed/abandoned/processing at the client)": [...outcomes]
          .map(([k, v]) => `${k} ${v}`)
          .join(", "),
        "first payments recorded success": paidFirst,
        "gateway answers": [...tally]
          .sort()
          .map(([k, v]) => `${k}: ${v}`)
          .join(", "),
        ...faultsSeen,
        "due renewals": RENEWALS,
        renewed: settled.success,
        "janitor runs (moved in time)": settled.janitorRuns,
        "sessions finished by gateway maintenance (moved in time)": sessionsMovedInTime,
      },
      counts,
      ledgerStates,
      violations: [],
      problems,
    };
  } finally {
    await worker?.kill();
    await gateway?.stop();
    await handle.close();
    await sandbox.close();
  }
}
