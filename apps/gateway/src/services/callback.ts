import { verifyCallbackSignature } from "@obuna/atmos";
import { atmosCallbacks } from "@obuna/db/schema";
import type { GatewayDeps } from "../context";
import { getSessionByAccount, getSessionPayment } from "../queries/payment-sessions";
import { reconcileSession } from "./payment-flow";
import { renewalCallbackReply } from "./renewal-callback";

type Deps = GatewayDeps & { metrics: NonNullable<GatewayDeps["metrics"]> };

export interface CallbackReply {
  status: 0 | 1;
  message: string;
}

function asInteger(value: unknown): number | null {
  if (typeof value === "number" && Number.isSafeInteger(value)) return value;
  if (typeof value === "string" && /^\d{1,15}$/.test(value)) return Number(value);
  return null;
}

/** Postgres text and jsonb cannot hold U+0000: a NUL in a received value would make the insert fail. */
function withoutNul(value: string): string {
  return value.replaceAll("\u0000", "");
}

function asText(value: unknown): string | null {
  return typeof value === "string" || typeof value === "number" ? withoutNul(String(value)) : null;
}

/**
 * ATMOS asks us, before it debits, whether the payment may go ahead (authorisation check): we
 * answer 1 when the sign is valid, the account is one of our sessions, the transaction and the
 * amount are the ones we created, and the session is still payable (or already paid — replays are
 * accepted). A callback never completes a payment by itself: only a confirmed ATMOS transaction
 * (apply answer or get) does. A callback for a session whose apply outcome is unknown triggers a
 * re-check at ATMOS after we answer. Every callback is recorded with our reply.
 */
export async function handleAtmosCallback(deps: Deps, body: unknown): Promise<CallbackReply> {
  const fields = (typeof body === "object" && body !== null && !Array.isArray(body) ? body : {}) as Record<
    string,
    unknown
  >;
  const signValid = verifyCallbackSignature(
    fields,
    deps.config.atmosCallbackApiKey,
    deps.config.atmosCallbackHash,
  );
  const account = asText(fields.account) ?? asText(fields.invoice);
  const transactionId = asInteger(fields.transaction_id);
  const amount = asInteger(fields.amount);

  let reply: CallbackReply;
  let recheck: string | null = null;
  if (!signValid) {
    reply = { status: 0, message: "Invalid signature" };
  } else if (String(fields.store_id) !== deps.config.atmosStoreId) {
    reply = { status: 0, message: "Unknown store" };
  } else {
    const session = account ? await getSessionByAccount(deps.db, account) : null;
    if (!session) {
      reply = (account && (await renewalCallbackReply(deps.db, account, transactionId, amount))) || {
        status: 0,
        message: "Invoice not found",
      };
    } else if (transactionId === null || session.transactionId !== transactionId) {
      reply = { status: 0, message: "Transaction not found" };
    } else if (amount === null || amount !== session.amount) {
      reply = { status: 0, message: "Amount mismatch" };
    } else if (session.status === "failed" || session.status === "expired") {
      reply = { status: 0, message: "Payment session is closed" };
    } else {
      reply = { status: 1, message: "Success" };
      if (session.status === "processing") recheck = session.id;
    }
  }

  await deps.db.insert(atmosCallbacks).values({
    transactionId,
    account,
    amount,
    signValid,
    replyStatus: reply.status,
    replyMessage: reply.message,
    body: stripUnexpected(fields),
  });
  deps.metrics.callbacks.inc({ status: String(reply.status) });
  deps.logger.info(
    { transactionId, account, status: reply.status, message: reply.message },
    "atmos callback",
  );

  if (recheck) {
    const sessionId = recheck;
    // Only a session whose apply already ended `unknown` is re-checked; an apply in flight finishes itself.
    setImmediate(() => {
      void (async () => {
        const payment = await getSessionPayment(deps.db, sessionId);
        if (payment?.status === "unknown") await reconcileSession(deps, sessionId);
      })().catch((error: Error) =>
        deps.logger.warn({ sessionId, err: error.message }, "callback re-check failed"),
      );
    });
  }
  return reply;
}

/** Keeps only the documented callback fields (short scalars) so nothing unexpected is stored. */
function stripUnexpected(fields: Record<string, unknown>) {
  const keep = ["store_id", "transaction_id", "transaction_time", "amount", "invoice", "account", "sign"];
  const out: Record<string, string | number> = {};
  for (const key of keep) {
    const value = fields[key];
    if (typeof value === "string" && value.length <= 128) out[key] = withoutNul(value);
    else if (typeof value === "number") out[key] = value;
  }
  return out;
}
