/**
 * Scenario 4: 100 payment sessions, each receiving 10 concurrent duplicate `apply` calls, plus the
 * ATMOS callback sent again (twice, during the apply burst and once more afterwards).
 */
import { randomInt, randomUUID } from "node:crypto";
import { signCallback } from "@obuna/atmos";
import { SANDBOX_CARDS, SANDBOX_OTP } from "@obuna/atmos/sandbox";
import { createDb } from "@obuna/db";
import { checkEndState } from "../check";
import {
  CALLBACK_API_KEY,
  type Child,
  flushChaosRedis,
  freePort,
  GatewayCaller,
  internalAuth,
  NO_FAULTS,
  prepareChaosDatabase,
  STORE_ID,
  sleep,
  startChaosSandbox,
  startGateway,
} from "../harness";
import type { Log, ScenarioResult } from "./types";

export const DUPLICATE_SESSIONS = 100;
export const APPLIES_PER_SESSION = 10;

export interface PreparedSession {
  telegramId: number;
  auth: string;
  sessionId: string;
  transactionId: number;
  amount: number;
}

/** create-link (as the bot) → session → create → pre-apply (as the Mini App user). */
export async function prepareSession(
  api: GatewayCaller,
  telegramId: number,
  card: keyof typeof SANDBOX_CARDS = "humo2",
): Promise<PreparedSession | string> {
  const auth = GatewayCaller.tma(telegramId);
  const link = await api.call("POST", "/api/v1/payment/create-link", internalAuth, {
    telegram_id: telegramId,
    plan_slug: "monthly",
    first_name: "Chaos",
    language_code: "uz",
  });
  if (link.status !== 200) return `create-link ${link.status} ${JSON.stringify(link.body)}`;
  const sessionId = link.body.data.session_id as string;
  const session = await api.call("GET", `/api/v1/payment/session/${sessionId}`, auth);
  if (session.status !== 200) return `session ${session.status}`;
  const amount = session.body.data.amount as number;
  const created = await api.call("POST", "/api/v1/atmos/create", auth, {
    session_id: sessionId,
    amount,
    auto_renew: false,
  });
  if (created.status !== 200) return `create ${created.status} ${JSON.stringify(created.body)}`;
  const transactionId = created.body.data.transaction_id as number;
  const pre = await api.call("POST", "/api/v1/atmos/pre-apply", auth, {
    session_id: sessionId,
    transaction_id: transactionId,
    card_number: SANDBOX_CARDS[card].pan,
    expiry: SANDBOX_CARDS[card].expiry,
  });
  if (pre.status !== 200) return `pre-apply ${pre.status} ${JSON.stringify(pre.body)}`;
  return { telegramId, auth, sessionId, transactionId, amount };
}

export async function duplicatesScenario(log: Log): Promise<Omit<ScenarioResult, "seconds">> {
  const databaseUrl = await prepareChaosDatabase();
  await flushChaosRedis();
  const port = await freePort();
  const sandbox = await startChaosSandbox({ callbackUrl: `http://127.0.0.1:${port}/api/v1/atmos/callback` });
  const handle = createDb(databaseUrl, { max: 4 });
  let gateway: Child | null = null;
  try {
    gateway = await startGateway({
      databaseUrl,
      atmosUrl: sandbox.url,
      port,
      logFile: "duplicates.gateway.log",
    });
    const api = new GatewayCaller(gateway.url, 30_000);
    const violations: string[] = [];

    const prepared: PreparedSession[] = [];
    for (let batch = 0; batch < DUPLICATE_SESSIONS; batch += 10) {
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => prepareSession(api, 7_400_000_000 + batch + i + 1)),
      );
      for (const r of results) {
        if (typeof r === "string") violations.push(`preparing a session failed: ${r}`);
        else prepared.push(r);
      }
    }
    log(`  prepared ${prepared.length} sessions (pre-applied)`);

    const accounts = new Map(
      (
        await handle.client<{ id: string; provider_reference: string }[]>`
          select id, provider_reference from payment_sessions`
      ).map((r) => [r.id, r.provider_reference]),
    );
    const callbackBody = (s: PreparedSession) => {
      const fields = {
        store_id: STORE_ID,
        transaction_id: String(s.transactionId),
        transaction_time: String(Date.now()),
        amount: String(s.amount),
        account: accounts.get(s.sessionId) ?? "",
      };
      return { ...fields, sign: signCallback(fields, CALLBACK_API_KEY, "md5") };
    };
    const callbackAnswers = new Map<string, number>();
    const sendCallback = async (s: PreparedSession) => {
      const res = await api.call("POST", "/api/v1/atmos/callback", "", callbackBody(s));
      const key = `${res.status}/status=${res.body?.status}`;
      callbackAnswers.set(key, (callbackAnswers.get(key) ?? 0) + 1);
      if (res.status !== 200) violations.push(`callback for ${s.sessionId} answered HTTP ${res.status}`);
    };

    const applyAnswers = new Map<string, number>();
    // 10 sessions at a time: 100 concurrent applies, with a duplicate callback racing them.
    for (let batch = 0; batch < prepared.length; batch += 10) {
      const group = prepared.slice(batch, batch + 10);
      await Promise.all(
        group.flatMap((s) => [
          ...Array.from({ length: APPLIES_PER_SESSION }, async () => {
            const res = await api.call(
              "POST",
              "/api/v1/atmos/apply",
              s.auth,
              { session_id: s.sessionId, transaction_id: s.transactionId, otp: SANDBOX_OTP },
              { "idempotency-key": randomUUID() },
            );
            const key = `${res.status} ${res.body?.data?.status ?? res.body?.error?.code ?? ""}`.trim();
            applyAnswers.set(key, (applyAnswers.get(key) ?? 0) + 1);
            if (res.status >= 500 || res.status === 0) {
              violations.push(`apply on ${s.sessionId} answered ${res.status} ${JSON.stringify(res.body)}`);
            }
          }),
          (async () => {
            await sleep(randomInt(0, 40));
            await sendCallback(s);
          })(),
        ]),
      );
    }
    // The duplicated callback once more, after every apply answered.
    await Promise.all(prepared.map((s) => sendCallback(s)));

    // The user's Mini App polls the session until it is final.
    let completed = 0;
    for (const s of prepared) {
      let status = "";
      for (let i = 0; i < 40; i++) {
        const res = await api.call("GET", `/api/v1/payment/session/${s.sessionId}`, s.auth);
        status = res.body?.data?.status ?? `http ${res.status}`;
        if (status !== "processing") break;
        await sleep(250);
      }
      if (status === "completed") completed++;
      else violations.push(`session ${s.sessionId} ended ${status}`);
    }

    sandbox.configure(NO_FAULTS);
    const { counts, problems, ledgerStates } = await checkEndState(handle, sandbox);
    const [{ n: successPayments }] = (await handle.client<{ n: number }[]>`
      select count(*)::int as n from payments where status = 'success'`) as unknown as [{ n: number }];
    if (counts.confirmedCharges !== prepared.length) {
      violations.push(`${counts.confirmedCharges} confirmed ATMOS charges for ${prepared.length} sessions`);
    }
    if (successPayments !== prepared.length) {
      violations.push(`${successPayments} successful payments for ${prepared.length} sessions`);
    }
    return {
      name: "duplicates",
      facts: {
        sessions: prepared.length,
        "apply calls": prepared.length * APPLIES_PER_SESSION,
        "apply answers": [...applyAnswers].map(([k, v]) => `${k}: ${v}`).join(", "),
        "callbacks sent (2 duplicates per session)": [...callbackAnswers]
          .map(([k, v]) => `${k}: ${v}`)
          .join(", "),
        "sessions completed": completed,
        "successful payments": successPayments,
      },
      counts,
      ledgerStates,
      violations,
      problems,
    };
  } finally {
    await gateway?.stop();
    await handle.close();
    await sandbox.close();
  }
}
