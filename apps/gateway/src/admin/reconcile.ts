import { isProviderError, type PaymentProvider, type ProviderPayment } from "@obuna/billing";
import type { Database } from "@obuna/db";
import {
  isPlaceholderFiscal,
  listActivePlans,
  listOpenPaymentsOfEndedSessions,
  listPaymentsByIds,
  listPaymentsByProviderIds,
  listProviderPaymentsSince,
  listRenewalAttemptPeriods,
  listSessionIdsByReference,
  listUnresolvedRenewalAttempts,
} from "@obuna/db/queries";

/**
 * Reconciliation: our rows against the payment provider (ATMOS) — its `getPayment` for each of our
 * payments and, against the sandbox, the ATMOS ledger. Pure reads — it never changes a row or calls
 * a mutating provider method; what to do about a discrepancy is an operator's decision (refund,
 * re-check, fix).
 */

export const DISCREPANCY_KINDS = [
  /** We hold a successful/reversed payment ATMOS has never heard of. */
  "missing_at_atmos",
  /** Our amount differs from ATMOS's. */
  "amount_mismatch",
  /** Our status disagrees with ATMOS's state (e.g. success here, not confirmed or reversed there). */
  "state_mismatch",
  /** A payment or renewal attempt still pending/unknown after the grace time (the janitor's leftovers). */
  "unresolved_outcome",
  /** ATMOS confirmed a transaction we hold no successful payment for. */
  "lost_payment",
  /** Two or more confirmed ATMOS transactions for one payment session or one renewal period. */
  "double_charge",
  /** A successful card charge without a fiscal receipt link (issue the receipt by hand). */
  "missing_receipt",
] as const;
export type DiscrepancyKind = (typeof DISCREPANCY_KINDS)[number];

/** ATMOS ids as the report (and ATMOS) write them: numbers; our rows keep them as text. */
const atmosId = (id: string | null) => (id === null ? null : Number(id));

export interface Discrepancy {
  kind: DiscrepancyKind;
  transactionId: number | null;
  paymentId: number | null;
  /** session uuid, `attempt:<id>` or `subscription:<id>:<periodEnd>` */
  ref: string | null;
  ours: string;
  atmos: string;
  message: string;
}

/** One transaction as the sandbox ledger (`GET /_sandbox/ledger`) lists it. */
export interface LedgerTransaction {
  transactionId: number;
  storeId: string;
  state: "created" | "pre_applied" | "confirmed" | "reversed" | "closed";
  amount: number;
  account: string;
  successTransId: number | null;
  createdAt: string;
}

export interface ReconcileDeps {
  db: Database;
  provider: Pick<PaymentProvider, "getPayment">;
  /** The ATMOS store whose ledger rows are ours. */
  storeId: string;
  /** All ATMOS transactions, or null when no ledger is available (real ATMOS). */
  ledger?: () => Promise<LedgerTransaction[] | null>;
  clock?: () => Date;
}

export interface ReconcileOptions {
  /** Only payments/attempts/ledger transactions created at or after this instant. */
  since?: Date;
  /** Pending/unknown outcomes older than this are reported (default 15 minutes). */
  unresolvedAfterMs?: number;
  /** Parallel provider `getPayment` calls (default 8). */
  concurrency?: number;
}

export interface ReconcileReport {
  discrepancies: Discrepancy[];
  checkedPayments: number;
  checkedLedger: number | null;
  notes: string[];
}

/** Renewal charges use the account `7` + 12-digit attempt id (apps/renewals core/attempts.ts). */
function renewalAttemptIdOf(account: string): number | null {
  return /^7\d{12}$/.test(account) ? Number(account.slice(1)) : null;
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      out[index] = await fn(items[index]!);
    }
  });
  await Promise.all(workers);
  return out;
}

/** Fetches `GET <baseUrl>/_sandbox/ledger`; null when the host has none (real ATMOS). */
export async function fetchSandboxLedger(baseUrl: string, fetchImpl: typeof fetch = fetch) {
  try {
    const res = await fetchImpl(new URL("/_sandbox/ledger", baseUrl), {
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) return null;
    const body = (await res.json()) as { transactions?: LedgerTransaction[] };
    return Array.isArray(body.transactions) ? body.transactions : null;
  } catch {
    return null;
  }
}

export async function reconcile(
  deps: ReconcileDeps,
  options: ReconcileOptions = {},
): Promise<ReconcileReport> {
  const now = (deps.clock ?? (() => new Date()))();
  const since = options.since ?? new Date(0);
  const unresolvedBefore = new Date(now.getTime() - (options.unresolvedAfterMs ?? 15 * 60_000));
  const discrepancies: Discrepancy[] = [];
  const notes: string[] = [];

  // ---------------------------------------------------------------- our payments vs ATMOS get
  const ours = await listProviderPaymentsSince(deps.db, since);
  // Payments still open although their session ended (expired, failed or completed): nothing will
  // ever resolve them, so they are reported at once, whatever the grace time or ATMOS answers.
  const leftOpen = await listOpenPaymentsOfEndedSessions(deps.db, since);
  const closedSessionOf = new Map(leftOpen.map((r) => [r.paymentId, r.sessionStatus]));
  const leftOpenFinding = (payment: (typeof ours)[number], atmos: string): Discrepancy => ({
    kind: "unresolved_outcome",
    transactionId: atmosId(payment.externalId),
    paymentId: payment.id,
    ref: payment.sessionId ?? `payment:${payment.id}`,
    ours: `${payment.status} ${payment.amount}`,
    atmos,
    message: `payment ${payment.id} still ${payment.status} although its session is ${closedSessionOf.get(payment.id)} (ATMOS: ${atmos}): settle it by hand`,
  });
  const answers = await mapLimit(ours, options.concurrency ?? 8, async (payment) => {
    try {
      return { payment, tx: await deps.provider.getPayment(payment.externalId!), error: null };
    } catch (error) {
      return { payment, tx: null as ProviderPayment | null, error };
    }
  });
  for (const { payment, tx, error } of answers) {
    const base = {
      transactionId: atmosId(payment.externalId),
      paymentId: payment.id,
      ref: payment.sessionId ?? `payment:${payment.id}`,
    };
    const ourState = `${payment.status} ${payment.amount}`;
    const settled = payment.status === "success" || payment.status === "reversed";
    // Only a card charge owes a fiscal receipt (Telegram Stars have none by design).
    if (payment.status === "success" && payment.receiptUrl === null && payment.provider === "atmos") {
      discrepancies.push({
        ...base,
        kind: "missing_receipt",
        ours: `${ourState} no receipt`,
        atmos: tx?.receiptUrl ? `receipt ${tx.receiptUrl}` : tx ? "no receipt" : "not checked",
        message: tx?.receiptUrl
          ? `payment ${payment.id}: no receipt link stored, ATMOS has ${tx.receiptUrl}`
          : `payment ${payment.id}: charged without a fiscal receipt; issue one by hand`,
      });
    }
    if (!tx) {
      if (closedSessionOf.has(payment.id)) discrepancies.push(leftOpenFinding(payment, "not checked"));
      const notFound = isProviderError(error) && error.kind === "payment_not_found";
      if (notFound && settled) {
        discrepancies.push({
          ...base,
          kind: "missing_at_atmos",
          ours: ourState,
          atmos: "not found",
          message: `payment ${payment.id} is ${payment.status} but ATMOS has no transaction ${payment.externalId}`,
        });
      } else if (!notFound) {
        notes.push(
          `payment ${payment.id}: ATMOS get failed (${isProviderError(error) ? error.kind : "error"}); not checked`,
        );
      }
      continue;
    }
    const atmosState = `${tx.state} ${tx.amount ?? "?"}`;
    if (tx.amount !== null && tx.amount !== payment.amount) {
      discrepancies.push({
        ...base,
        kind: "amount_mismatch",
        ours: ourState,
        atmos: atmosState,
        message: `payment ${payment.id}: we hold ${payment.amount}, ATMOS ${tx.amount}`,
      });
    }
    const paidThere = tx.state === "confirmed";
    let mismatch: string | null = null;
    if (payment.status === "success" && tx.state !== "confirmed") {
      mismatch =
        tx.state === "reversed"
          ? "reversed at ATMOS but success here"
          : "success here but ATMOS never confirmed";
    } else if (payment.status === "reversed" && tx.state !== "reversed") {
      mismatch = "refunded here but not reversed at ATMOS";
    } else if (payment.status === "failed" && paidThere) {
      // failed here + reversed there agree: the money went back (e.g. reversed after a lost apply).
      mismatch = "failed here but ATMOS confirmed the payment";
    }
    if (mismatch) {
      discrepancies.push({
        ...base,
        kind: "state_mismatch",
        ours: ourState,
        atmos: atmosState,
        message: `payment ${payment.id}: ${mismatch}`,
      });
    }
    if (closedSessionOf.has(payment.id)) {
      discrepancies.push(leftOpenFinding(payment, atmosState));
    } else if (
      (payment.status === "pending" || payment.status === "unknown") &&
      payment.updatedAt < unresolvedBefore
    ) {
      discrepancies.push({
        ...base,
        kind: "unresolved_outcome",
        ours: ourState,
        atmos: atmosState,
        message:
          tx.state === "reversed"
            ? `payment ${payment.id} still ${payment.status}; ATMOS reversed it: not paid, settle as failed (no access)`
            : `payment ${payment.id} still ${payment.status} (ATMOS: ${tx.state})`,
      });
    }
  }

  // A payment left open without an ATMOS transaction is not in `ours`: reported here.
  const checked = new Set(ours.map((p) => p.id));
  const unchecked = leftOpen.filter((r) => !checked.has(r.paymentId)).map((r) => r.paymentId);
  if (unchecked.length) {
    for (const payment of await listPaymentsByIds(deps.db, unchecked)) {
      discrepancies.push(leftOpenFinding(payment, "no transaction"));
    }
  }

  // Placeholder fiscal codes make every receipt wrong: say so on every run until the operator sets them.
  const activePlans = await listActivePlans(deps.db);
  for (const plan of activePlans.filter(isPlaceholderFiscal)) {
    notes.push(`plan ${plan.slug} still has the placeholder IKPU/package code: set its fiscal codes`);
  }

  // ---------------------------------------------------------------- renewal attempts left open
  const open = await listUnresolvedRenewalAttempts(deps.db, { since, updatedBefore: unresolvedBefore });
  for (const attempt of open) {
    discrepancies.push({
      kind: "unresolved_outcome",
      transactionId: atmosId(attempt.externalId),
      paymentId: attempt.paymentId,
      ref: `attempt:${attempt.id}`,
      ours: `${attempt.status} ${attempt.amount}`,
      atmos: "-",
      message: `renewal attempt ${attempt.id} (subscription ${attempt.subscriptionId}) still ${attempt.status} after ${attempt.checkCount} checks`,
    });
  }

  // ---------------------------------------------------------------- the ATMOS ledger vs our rows
  let checkedLedger: number | null = null;
  const ledger = deps.ledger ? await deps.ledger() : null;
  if (!ledger) {
    notes.push("no ATMOS ledger available (real ATMOS): lost payments and double charges were not checked");
  } else {
    const mine = ledger.filter(
      (t) => String(t.storeId) === String(deps.storeId) && Date.parse(t.createdAt) >= since.getTime(),
    );
    checkedLedger = mine.length;
    const ids = mine.map((t) => String(t.transactionId));
    const paid = await listPaymentsByProviderIds(deps.db, ids);
    const sessionRows = await listSessionIdsByReference(
      deps.db,
      mine.map((t) => t.account),
    );
    const sessionByAccount = new Map(sessionRows.map((s) => [s.reference, s.id]));
    const attemptIds = mine
      .map((t) => renewalAttemptIdOf(t.account))
      .filter((id): id is number => id !== null);
    const attemptRows = await listRenewalAttemptPeriods(deps.db, attemptIds);
    const attemptById = new Map(attemptRows.map((a) => [a.id, a]));

    const groups = new Map<string, LedgerTransaction[]>();
    for (const t of mine) {
      if (t.state !== "confirmed" && t.state !== "reversed") continue;
      const rows = paid.filter((p) => p.externalId === String(t.transactionId));
      if (t.state === "confirmed" && !rows.some((p) => p.status === "success" || p.status === "reversed")) {
        discrepancies.push({
          kind: "lost_payment",
          transactionId: t.transactionId,
          paymentId: rows[0]?.id ?? null,
          ref:
            sessionByAccount.get(t.account) ??
            (renewalAttemptIdOf(t.account)
              ? `attempt:${renewalAttemptIdOf(t.account)}`
              : `account:${t.account}`),
          ours: rows.length ? rows.map((p) => p.status).join(",") : "no payment",
          atmos: `confirmed ${t.amount}`,
          message: `ATMOS confirmed transaction ${t.transactionId} (${t.amount} tiyin, account ${t.account}) but we hold no successful payment for it`,
        });
      }
      if (t.state !== "confirmed") continue;
      const attemptId = renewalAttemptIdOf(t.account);
      const attempt = attemptId ? attemptById.get(attemptId) : undefined;
      const key = sessionByAccount.get(t.account)
        ? `session:${sessionByAccount.get(t.account)}`
        : attempt
          ? `subscription:${attempt.subscriptionId}:${attempt.periodEnd.toISOString()}`
          : null;
      if (!key) continue;
      groups.set(key, [...(groups.get(key) ?? []), t]);
    }
    for (const [key, charges] of groups) {
      if (charges.length < 2) continue;
      discrepancies.push({
        kind: "double_charge",
        transactionId: charges[0]!.transactionId,
        paymentId: null,
        ref: key,
        ours: "-",
        atmos: charges.map((c) => `${c.transactionId}:${c.amount}`).join(" "),
        message: `${charges.length} confirmed ATMOS charges for ${key}: ${charges.map((c) => c.transactionId).join(", ")}`,
      });
    }
  }
  return { discrepancies, checkedPayments: ours.length, checkedLedger, notes };
}

export function summarise(discrepancies: Discrepancy[]): Record<DiscrepancyKind, number> {
  const out = Object.fromEntries(DISCREPANCY_KINDS.map((k) => [k, 0])) as Record<DiscrepancyKind, number>;
  for (const d of discrepancies) out[d.kind]++;
  return out;
}

/** A plain-text table for the terminal (and the admin alert). */
export function formatReport(report: ReconcileReport): string {
  const lines: string[] = [];
  const cols = ["kind", "transaction", "payment", "ref", "ours", "atmos", "message"] as const;
  const rows = report.discrepancies.map((d) => [
    d.kind,
    String(d.transactionId ?? "-"),
    String(d.paymentId ?? "-"),
    d.ref ?? "-",
    d.ours,
    d.atmos,
    d.message,
  ]);
  if (rows.length) {
    const widths = cols.map((c, i) => Math.min(60, Math.max(c.length, ...rows.map((r) => r[i]!.length))));
    const fmt = (r: readonly string[]) =>
      r.map((v, i) => (i === r.length - 1 ? v : v.padEnd(widths[i]!))).join("  ");
    lines.push(fmt(cols), fmt(widths.map((w) => "-".repeat(w))), ...rows.map(fmt));
    lines.push("");
  }
  const s = summarise(report.discrepancies);
  lines.push(
    `checked ${report.checkedPayments} payments, ${report.checkedLedger ?? "no"} ATMOS ledger transactions`,
    `double charges: ${s.double_charge}, lost payments: ${s.lost_payment}, missing at ATMOS: ${s.missing_at_atmos}, amount mismatches: ${s.amount_mismatch}, state mismatches: ${s.state_mismatch}, unresolved: ${s.unresolved_outcome}, without receipt: ${s.missing_receipt}`,
    report.discrepancies.length ? `${report.discrepancies.length} discrepancies` : "no discrepancies",
  );
  for (const note of report.notes) lines.push(`note: ${note}`);
  return lines.join("\n");
}
