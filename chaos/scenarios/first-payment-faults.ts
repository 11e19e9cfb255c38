/**
 * Scenario "first-payment-faults": 30 first payments with auto-renew (so each binds its card: create,
 * bind-card init, bind-card confirm, pre-apply with the new card's token, apply) while the ATMOS
 * sandbox answers 5 % of all calls with an HTML 502 and loses the answer of 15 % of the applies it
 * charged. The client is the Mini App as it is: every step is sent once; an error answer is shown to
 * the user, who may press "try again" (the same Idempotency-Key). A payment counts as completed
 * "without a user retry" only when no step needed that press (issue 18's goal: at least 29 of 30).
 * A violation: a payment that failed, was abandoned or needed a user retry. An apply answered with a
 * 502 that ATMOS never processed is sent again while `get` shows it pre-applied, at most twice more; one
 * refused every time leaves its session `processing` (about one payment in 8 000): counted, not a violation.
 *
 * Afterwards the sessions the client left `pending` expire (half through the gateway's GET, half
 * through the renewals maintenance query), so the check also sees that expiry closes their payment.
 */
import { randomUUID } from "node:crypto";
import {
  type RunningSandbox,
  SANDBOX_CARDS,
  SANDBOX_OTP,
  type SandboxConfigPatch,
} from "@obuna/atmos/sandbox";
import { createDb } from "@obuna/db";
import { expireStalePaymentSessions } from "@obuna/db/queries";
import { checkEndState } from "../check";
import {
  type ApiAnswer,
  type Child,
  chaosAtmosClient,
  flushChaosRedis,
  freePort,
  GatewayCaller,
  internalAuth,
  NO_FAULTS,
  prepareChaosDatabase,
  settleSessions,
  sleep,
  startChaosSandbox,
  startGateway,
  startRenewals,
} from "../harness";
import type { Log, ScenarioResult } from "./types";

export const FIRST_PAYMENT_FAULTS: SandboxConfigPatch = {
  errorRate: 0.05,
  lostApplyRate: 0.15,
  latencyMs: 5,
};
const PAYMENTS = 30;
/** "Try again" presses a user makes on one step before giving up. */
const USER_RETRIES = 2;
/** The six sandbox cards that pay; each lane of concurrent payments uses its own card. */
const CARDS = [
  SANDBOX_CARDS.humo1,
  SANDBOX_CARDS.humo2,
  SANDBOX_CARDS.humo3,
  SANDBOX_CARDS.humo4,
  SANDBOX_CARDS.uzcard1,
  SANDBOX_CARDS.uzcard2,
];

type Outcome =
  | "completed without a user retry"
  | "completed after a user retry"
  | "failed"
  | "left processing"
  | "abandoned";

interface Attempt {
  outcome: Outcome;
  /** Steps whose first answer made the user press "try again", e.g. "apply 503 PAYMENT_PROVIDER_UNAVAILABLE". */
  retriedSteps: string[];
  /** The answer that ended a failed or abandoned payment. */
  endedBy: string | null;
}

const describe = (res: ApiAnswer) => `${res.status} ${res.body?.error?.code ?? res.body?.data?.status ?? ""}`;
/** What the Mini App shows as "try again": no answer, a 5xx, or 409 (another request in progress). */
const transient = (res: ApiAnswer) => res.status === 0 || res.status >= 500 || res.status === 409;

async function firstPaymentWithAutoRenew(
  api: GatewayCaller,
  telegramId: number,
  card: (typeof CARDS)[number],
  tally: Map<string, number>,
): Promise<Attempt & { sessionId: string | null }> {
  const retriedSteps: string[] = [];
  let sessionId: string | null = null;
  const step = async (name: string, call: (key: string) => Promise<ApiAnswer>) => {
    const key = randomUUID();
    let res = await call(key);
    for (let press = 0; press < USER_RETRIES && transient(res); press++) {
      retriedSteps.push(`${name} ${describe(res)}`);
      await sleep(500);
      res = await call(key);
    }
    const k = `${name} ${describe(res)}`;
    tally.set(k, (tally.get(k) ?? 0) + 1);
    return res;
  };
  const end = (outcome: Outcome, res: ApiAnswer | null, name = "") => ({
    outcome,
    retriedSteps,
    endedBy: res ? `${name} ${describe(res)}` : null,
    sessionId,
  });
  const auth = GatewayCaller.tma(telegramId);

  const link = await step("create-link", (key) =>
    api.call(
      "POST",
      "/api/v1/payment/create-link",
      internalAuth,
      { telegram_id: telegramId, plan_slug: "monthly", first_name: "Chaos", language_code: "ru" },
      { "idempotency-key": key },
    ),
  );
  if (link.status !== 200) return end(transient(link) ? "abandoned" : "failed", link, "create-link");
  sessionId = link.body.data.session_id as string;
  const session = await step("session", () => api.call("GET", `/api/v1/payment/session/${sessionId}`, auth));
  if (session.status !== 200) return end("abandoned", session, "session");
  const created = await step("create", (key) =>
    api.call(
      "POST",
      "/api/v1/checkout/create",
      auth,
      { session_id: sessionId, amount: session.body.data.amount, auto_renew: true },
      { "idempotency-key": key },
    ),
  );
  if (created.status !== 200) return end(transient(created) ? "abandoned" : "failed", created, "create");
  const transactionId = created.body.data.transaction_id as number;
  const pre = await step("pre-apply", (key) =>
    api.call(
      "POST",
      "/api/v1/checkout/pre-apply",
      auth,
      { session_id: sessionId, transaction_id: transactionId, card_number: card.pan, expiry: card.expiry },
      { "idempotency-key": key },
    ),
  );
  if (pre.status !== 200) return end(transient(pre) ? "abandoned" : "failed", pre, "pre-apply");
  const applied = await step("apply", (key) =>
    api.call(
      "POST",
      "/api/v1/checkout/apply",
      auth,
      { session_id: sessionId, transaction_id: transactionId, otp: SANDBOX_OTP },
      { "idempotency-key": key },
    ),
  );
  const completed = (): Outcome =>
    retriedSteps.length ? "completed after a user retry" : "completed without a user retry";
  if (applied.status === 200 && applied.body.data.status === "completed") return end(completed(), null);
  if (applied.status !== 200) return end(transient(applied) ? "abandoned" : "failed", applied, "apply");
  // "processing": the Mini App polls the session.
  for (let i = 0; i < 10; i++) {
    const res = await api.call("GET", `/api/v1/payment/session/${sessionId}`, auth);
    const status = res.body?.data?.status;
    if (status === "completed") return end(completed(), null);
    if (status === "failed" || status === "expired" || res.status === 410) return end("failed", res, "poll");
    await sleep(300);
  }
  return end("left processing", applied, "apply");
}

/** Unbinds a lane's card at ATMOS after its payment, so the next user of the lane binds it afresh. */
async function unbindAtAtmos(sandbox: RunningSandbox, pan: string) {
  const atmos = chaosAtmosClient(sandbox);
  const masked = `${pan.slice(0, 6)}******${pan.slice(-4)}`;
  for (let i = 0; i < 20; i++) {
    try {
      const cards = await atmos.listCards();
      const card = cards.find((c) => c.panMasked === masked);
      if (!card) return;
      await atmos.removeCard({ cardId: card.cardId, cardToken: card.cardToken });
      return;
    } catch {
      await sleep(100);
    }
  }
  throw new Error(`could not unbind ${masked} at the sandbox`);
}

export async function firstPaymentFaultsScenario(log: Log): Promise<Omit<ScenarioResult, "seconds">> {
  const databaseUrl = await prepareChaosDatabase();
  await flushChaosRedis();
  const port = await freePort();
  const sandbox = await startChaosSandbox({
    callbackUrl: `http://127.0.0.1:${port}/api/v1/checkout/callback`,
  });
  const handle = createDb(databaseUrl, { max: 4 });
  let gateway: Child | null = null;
  let renewals: Child | null = null;
  try {
    gateway = await startGateway({
      databaseUrl,
      atmosUrl: sandbox.url,
      port,
      logFile: "first-payment-faults.gateway.log",
      atmosTimeoutMs: 2_000,
    });
    const api = new GatewayCaller(gateway.url, 30_000);
    sandbox.configure(FIRST_PAYMENT_FAULTS);
    log(`  faults on: ${JSON.stringify(FIRST_PAYMENT_FAULTS)}; ${PAYMENTS} first payments with auto-renew`);

    const tally = new Map<string, number>();
    const attempts: Attempt[] = [];
    let next = 0;
    await Promise.all(
      CARDS.map(async (card) => {
        while (next < PAYMENTS) {
          const telegramId = 7_400_000_000 + ++next;
          attempts.push(await firstPaymentWithAutoRenew(api, telegramId, card, tally));
          await unbindAtAtmos(sandbox, card.pan);
        }
      }),
    );
    const count = (o: Outcome) => attempts.filter((a) => a.outcome === o).length;
    const outcomes = (
      [
        "completed without a user retry",
        "completed after a user retry",
        "failed",
        "left processing",
        "abandoned",
      ] as const
    )
      .map((o) => `${o} ${count(o)}`)
      .join(", ");
    log(`  first payments: ${outcomes}`);
    const atmosCalls = sandbox.requests().length;
    sandbox.configure(NO_FAULTS);

    // Sessions the client left behind: `processing` ones are finished by the renewals worker's
    // stuck-session re-check (moved in time; the gateway runs no timers, so a renewals process is
    // started for it); `pending` ones expire — half through the gateway (GET session), half through
    // the renewals maintenance query.
    const [processing] = await handle.client<{ n: number }[]>`
      select count(*)::int as n from payment_sessions where status = 'processing'`;
    if ((processing?.n ?? 0) > 0) {
      renewals = await startRenewals({
        databaseUrl,
        atmosUrl: sandbox.url,
        logFile: "first-payment-faults.renewals.log",
      });
    }
    const sessionsMovedInTime = await settleSessions(handle, log);
    await renewals?.stop();
    renewals = null;
    const left = await handle.client<{ id: string; telegram_id: number }[]>`
      update payment_sessions s set expires_at = now() - interval '1 minute'
      from users u where u.id = s.user_id and s.status = 'pending'
      returning s.id, u.telegram_id`;
    for (const s of left.filter((_, i) => i % 2 === 0)) {
      await api.call("GET", `/api/v1/payment/session/${s.id}`, GatewayCaller.tma(Number(s.telegram_id)));
    }
    const expiredByMaintenance = await expireStalePaymentSessions(handle.db, new Date());

    const { counts, problems, ledgerStates } = await checkEndState(handle, sandbox);
    // A passing fault before money moves must never cost the payment or a "try again": every payment
    // completes at once, except one whose apply ATMOS answered with a 5xx without processing it on
    // every send (the first and both resends; such a session stays `processing`, then fails unpaid).
    const violations = attempts
      .filter((a) => a.outcome !== "completed without a user retry" && a.outcome !== "left processing")
      .map(
        (a) =>
          `a fault cost a payment or a user retry: ${a.outcome} (${[...a.retriedSteps, a.endedBy].filter(Boolean).join("; ")})`,
      );
    const firstTry = count("completed without a user retry");
    return {
      name: "first-payment-faults",
      facts: {
        "first payments (at the client)": outcomes,
        "completed without a user retry (goal ≥ 29 of 30)": `${firstTry} of ${PAYMENTS}`,
        "steps the user had to retry": attempts.flatMap((a) => a.retriedSteps).join("; ") || "none",
        "payments that ended without completing":
          attempts
            .filter((a) => a.endedBy)
            .map((a) => `${a.outcome}: ${a.endedBy}`)
            .join("; ") || "none",
        "gateway answers": [...tally]
          .sort()
          .map(([k, v]) => `${k}: ${v}`)
          .join(", "),
        "ATMOS calls during the payments": atmosCalls,
        "sessions finished by gateway maintenance (moved in time)": sessionsMovedInTime,
        "pending sessions expired (gateway GET / renewals maintenance)": `${left.length - expiredByMaintenance} / ${expiredByMaintenance}`,
      },
      counts,
      ledgerStates,
      violations,
      problems,
    };
  } finally {
    await renewals?.stop();
    await gateway?.stop();
    await handle.close();
    await sandbox.close();
  }
}
