/**
 * The end-state check of every scenario: our database against the ATMOS ledger (the sandbox's), in
 * two independent ways — this file's own consistency checker and the gateway's `reconcile()` (what
 * `pnpm reconcile` runs) with a zero grace time, so anything still pending or unknown also counts.
 */
import type { RunningSandbox, SandboxLedgerEntry } from "@obuna/atmos/sandbox";
import type { DbHandle } from "@obuna/db";
import { reconcile, summarise } from "../apps/gateway/src/admin/reconcile";
import { chaosRail, STORE_ID } from "./harness";

export interface CheckCounts {
  subscriptions: number;
  consistent: number;
  inconsistent: number;
  doubleCharges: number;
  lostPayments: number;
  /** Successful payments ATMOS never confirmed (money we think we have but do not). */
  phantomPayments: number;
  /** Payments, renewal attempts or sessions still pending/unknown/processing at the end. */
  unresolved: number;
  /** Confirmed ATMOS charges (the money that really moved). */
  confirmedCharges: number;
  /** Discrepancies found by the gateway's reconcile(). */
  reconcileDiscrepancies: number;
  /** Successful payments whose message to the user was never recorded (notification outbox). */
  unannouncedPayments: number;
  /** Messages recorded but not yet taken by the queue at check time (informational: the renewals `outbox-relay` job relays them). */
  owedNotifications: number;
}

export interface CheckResult {
  counts: CheckCounts;
  problems: string[];
  /** The ATMOS ledger by end state (closed ones by reason), e.g. "confirmed 385, pre_applied 12". */
  ledgerStates: string;
}

const RENEWAL_ACCOUNT = /^7\d{12}$/;

interface PaymentRow {
  id: number;
  subscription_id: number | null;
  session_id: string | null;
  kind: string;
  status: string;
  amount: number;
  transaction_id: number | null;
  period_start: Date | null;
  period_end: Date | null;
}

/**
 * @param seededEnds subscriptions created by the scenario itself (not by a payment), with the end
 *   date they were seeded with: their first paid period must start exactly there.
 */
export async function checkEndState(
  handle: DbHandle,
  sandbox: RunningSandbox,
  seededEnds: Map<number, Date> = new Map(),
): Promise<CheckResult> {
  const sql = handle.client;
  const problems: string[] = [];
  const ledger: SandboxLedgerEntry[] = sandbox.ledger().filter((t) => String(t.storeId) === STORE_ID);
  const confirmed = ledger.filter((t) => t.state === "confirmed");

  const payments = (
    await sql<
      PaymentRow[]
    >`select id, subscription_id, session_id, kind, status, amount, external_id as transaction_id,
      period_start, period_end from payments order by id`
  ).map((p) => ({
    ...p,
    id: Number(p.id),
    subscription_id: p.subscription_id === null ? null : Number(p.subscription_id),
    amount: Number(p.amount),
    transaction_id: p.transaction_id === null ? null : Number(p.transaction_id),
    // The drizzle-configured client hands timestamps back as strings.
    period_start: p.period_start === null ? null : new Date(p.period_start),
    period_end: p.period_end === null ? null : new Date(p.period_end),
  }));
  const sessions = await sql<{ id: string; atmos_account: string | null; status: string }[]>`
    select id, provider_reference as atmos_account, status from payment_sessions`;
  const attempts = await sql<
    { id: number; subscription_id: number; period_end: Date; status: string; transaction_id: string | null }[]
  >`select id, subscription_id, period_end, status, external_id as transaction_id from renewal_attempts`;
  const subscriptions = await sql<
    { id: number; status: string; start_date: Date; end_date: Date; duration_days: number }[]
  >`select s.id, s.status, s.start_date, s.end_date, p.duration_days
    from subscriptions s join plans p on p.id = s.plan_id order by s.id`;

  // ---- lost payments: ATMOS confirmed, we hold no successful payment for it
  const successByTx = new Map<number, PaymentRow[]>();
  for (const p of payments) {
    if (p.transaction_id === null || (p.status !== "success" && p.status !== "reversed")) continue;
    successByTx.set(p.transaction_id, [...(successByTx.get(p.transaction_id) ?? []), p]);
  }
  let lostPayments = 0;
  for (const t of confirmed) {
    const rows = successByTx.get(t.transactionId) ?? [];
    if (rows.length === 0) {
      lostPayments++;
      problems.push(
        `lost payment: ATMOS transaction ${t.transactionId} (account ${t.account}) confirmed, no payment`,
      );
    } else if (rows.length > 1) {
      problems.push(`transaction ${t.transactionId} recorded by ${rows.length} payments`);
    }
    if (rows.some((r) => r.amount !== t.amount)) {
      problems.push(`transaction ${t.transactionId}: amount ${t.amount} at ATMOS, ours ${rows[0]?.amount}`);
    }
  }

  // ---- phantom payments: success here, not confirmed at ATMOS
  const ledgerById = new Map(ledger.map((t) => [t.transactionId, t]));
  let phantomPayments = 0;
  for (const p of payments) {
    if (p.status !== "success") continue;
    const t = p.transaction_id === null ? undefined : ledgerById.get(p.transaction_id);
    if (t?.state !== "confirmed") {
      phantomPayments++;
      problems.push(
        `payment ${p.id} is success but ATMOS transaction ${p.transaction_id} is ${t?.state ?? "absent"}`,
      );
    }
  }

  // ---- double charges: >1 confirmed ATMOS charge for one payment session or one renewal period
  const sessionByAccount = new Map(sessions.map((s) => [s.atmos_account, s.id]));
  const attemptById = new Map(attempts.map((a) => [Number(a.id), a]));
  const chargesByKey = new Map<string, number[]>();
  for (const t of confirmed) {
    let key: string;
    if (sessionByAccount.has(t.account)) key = `session ${sessionByAccount.get(t.account)}`;
    else if (RENEWAL_ACCOUNT.test(t.account)) {
      const attempt = attemptById.get(Number(t.account.slice(1)));
      key = attempt
        ? `subscription ${attempt.subscription_id} period ${new Date(attempt.period_end).toISOString()}`
        : `unknown renewal account ${t.account}`;
    } else key = `account ${t.account}`;
    chargesByKey.set(key, [...(chargesByKey.get(key) ?? []), t.transactionId]);
  }
  let doubleCharges = 0;
  for (const [key, ids] of chargesByKey) {
    if (ids.length > 1) {
      doubleCharges += ids.length - 1;
      problems.push(`double charge: ${key} charged ${ids.length} times (${ids.join(", ")})`);
    }
  }

  // ---- every subscription's end date is exactly what its successful payments bought
  let consistent = 0;
  let inconsistent = 0;
  for (const s of subscriptions) {
    const id = Number(s.id);
    const paid = payments
      .filter((p) => p.subscription_id === id && p.status === "success")
      .sort((a, b) => (a.period_start?.getTime() ?? 0) - (b.period_start?.getTime() ?? 0));
    const seeded = seededEnds.get(id);
    const errors: string[] = [];
    let cursor: Date | null = seeded ?? paid[0]?.period_start ?? null;
    for (const p of paid) {
      if (!p.period_start || !p.period_end) {
        errors.push(`payment ${p.id} has no period`);
        continue;
      }
      if (cursor && p.period_start.getTime() !== cursor.getTime()) {
        errors.push(
          `payment ${p.id} period starts ${p.period_start.toISOString()}, expected ${cursor.toISOString()}`,
        );
      }
      const days = (p.period_end.getTime() - p.period_start.getTime()) / 86_400_000;
      if (days !== s.duration_days)
        errors.push(`payment ${p.id} bought ${days} days, plan has ${s.duration_days}`);
      cursor = p.period_end;
    }
    const expectedEnd = cursor;
    if (expectedEnd === null) errors.push("no seeded end and no successful payment");
    else if (new Date(s.end_date).getTime() !== expectedEnd.getTime()) {
      errors.push(
        `end_date ${new Date(s.end_date).toISOString()}, payments say ${expectedEnd.toISOString()}`,
      );
    }
    if (paid.length > 0 && s.status !== "active" && s.status !== "canceled") {
      errors.push(`status ${s.status} although its last period is paid`);
    }
    if (errors.length) {
      inconsistent++;
      problems.push(`subscription ${id}: ${errors.join("; ")}`);
    } else consistent++;
  }

  // ---- nothing left in between
  let unresolved = 0;
  for (const p of payments) {
    if (p.status === "pending" || p.status === "unknown") {
      unresolved++;
      problems.push(`payment ${p.id} still ${p.status}`);
    }
  }
  for (const a of attempts) {
    if (a.status === "pending" || a.status === "unknown") {
      unresolved++;
      problems.push(`renewal attempt ${a.id} still ${a.status}`);
    }
  }
  for (const s of sessions) {
    if (s.status === "processing") {
      unresolved++;
      problems.push(`payment session ${s.id} still processing`);
    }
  }

  // ---- every successful payment owes its user a message, recorded with it (notification outbox):
  // payment_succeeded / renewal_succeeded / renewal_charged_after_cancel carry the payment id; a renewal charged without extending
  // its subscription records an admin alert naming the payment instead.
  const announced = new Set(
    (
      await sql<{ payment_id: string | null; text: string | null }[]>`
        select payload->>'paymentId' as payment_id, payload->>'text' as text from notification_outbox
        where kind in ('payment_succeeded', 'renewal_succeeded', 'renewal_charged_after_cancel', 'admin_alert')`
    ).flatMap((r) => {
      if (r.payment_id !== null) return [Number(r.payment_id)];
      const named = r.text ? /\(payment (\d+)\)/.exec(r.text) : null;
      return named ? [Number(named[1])] : [];
    }),
  );
  let unannouncedPayments = 0;
  for (const p of payments) {
    if (p.status !== "success" || announced.has(p.id)) continue;
    unannouncedPayments++;
    problems.push(`payment ${p.id} (${p.kind}) succeeded but no message to its user was recorded`);
  }
  // An operator's refund is a money change too: each one owes its user a payment_refunded message.
  const silentRefunds = await sql<{ payment_id: string }[]>`
    select a.entity_id as payment_id from audit_log a
    where a.action = 'payment.refunded' and not exists (
      select 1 from notification_outbox o
      where o.kind = 'payment_refunded' and o.payload->>'paymentId' = a.entity_id)`;
  for (const r of silentRefunds) {
    unannouncedPayments++;
    problems.push(
      `payment ${r.payment_id} was refunded by an operator but no message to its user was recorded`,
    );
  }
  const [owed] = await sql<{ n: string }[]>`
    select count(*) as n from notification_outbox where queued_at is null`;

  // ---- the gateway's reconcile (pnpm reconcile), with no grace time
  const report = await reconcile(
    {
      db: handle.db,
      provider: chaosRail(sandbox).provider,
      storeId: STORE_ID,
      ledger: async () => sandbox.ledger(),
    },
    { unresolvedAfterMs: 0 },
  );
  const summary = summarise(report.discrepancies);
  for (const d of report.discrepancies.slice(0, 20)) problems.push(`reconcile ${d.kind}: ${d.message}`);
  for (const note of report.notes.slice(0, 5)) problems.push(`reconcile note: ${note}`);

  const states = new Map<string, number>();
  for (const t of ledger) {
    const key = t.state === "closed" ? `closed (${t.closedReason ?? "?"})` : t.state;
    states.set(key, (states.get(key) ?? 0) + 1);
  }
  return {
    ledgerStates: [...states]
      .sort()
      .map(([k, v]) => `${k} ${v}`)
      .join(", "),
    counts: {
      subscriptions: subscriptions.length,
      consistent,
      inconsistent,
      doubleCharges: Math.max(doubleCharges, summary.double_charge),
      lostPayments: Math.max(lostPayments, summary.lost_payment),
      phantomPayments,
      unresolved,
      confirmedCharges: confirmed.length,
      reconcileDiscrepancies: report.discrepancies.length,
      unannouncedPayments,
      owedNotifications: Number(owed?.n ?? 0),
    },
    problems,
  };
}

export function isClean(c: CheckCounts): boolean {
  return (
    c.inconsistent === 0 &&
    c.doubleCharges === 0 &&
    c.lostPayments === 0 &&
    c.phantomPayments === 0 &&
    c.unresolved === 0 &&
    c.reconcileDiscrepancies === 0 &&
    c.unannouncedPayments === 0
  );
}
