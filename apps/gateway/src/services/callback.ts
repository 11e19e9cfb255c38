import { verifyCallbackSignature } from "@obuna/atmos";
import { providerCallbacks } from "@obuna/db/schema";
import type { GatewayDeps } from "../context";
import { getSessionByAccount, getSessionPayment } from "../queries/payment-sessions";
import { reconcileSession } from "./payment-flow";
import { renewalCallbackReply } from "./renewal-callback";

type Deps = GatewayDeps & { metrics: NonNullable<GatewayDeps["metrics"]> };

export interface CallbackReply {
  status: 0 | 1;
  message: string;
}

/**
 * The longest value (characters, as received) each callback field may carry; any other field gets
 * OTHER_FIELD_MAX. ATMOS sends short digit strings and a hex sign; anything longer is refused
 * before it is parsed further or stored.
 */
export const CALLBACK_FIELD_MAX: Readonly<Record<string, number>> = {
  store_id: 32,
  transaction_id: 20,
  transaction_time: 32,
  amount: 20,
  invoice: 64,
  account: 64,
  sign: 128,
};
const OTHER_FIELD_MAX = 256;
const FIELD_NAME_MAX = 64;
const MAX_FIELDS = 16;

/** The first field over its bound (name, value size or count), or null when every field fits. */
export function oversizedCallbackField(body: unknown): string | null {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return null;
  const entries = Object.entries(body);
  if (entries.length > MAX_FIELDS) return "(too many fields)";
  for (const [name, value] of entries) {
    // Only documented names are echoed or logged: another name is attacker-chosen text.
    const known = Object.hasOwn(CALLBACK_FIELD_MAX, name);
    if (name.length > FIELD_NAME_MAX) return "(field name)";
    const size = typeof value === "string" ? value.length : (JSON.stringify(value) ?? "").length;
    if (size > (known ? CALLBACK_FIELD_MAX[name]! : OTHER_FIELD_MAX)) return known ? name : "(other field)";
  }
  return null;
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
export async function handleAtmosCallback(
  deps: Deps,
  body: unknown,
  /** The values as received (receivedCallbackValues): the sign is checked over these. */
  received: Record<string, string> | null = null,
): Promise<CallbackReply> {
  const fields = (typeof body === "object" && body !== null && !Array.isArray(body) ? body : {}) as Record<
    string,
    unknown
  >;
  const signValid = verifyCallbackSignature(
    received ?? fields,
    deps.config.atmosCallbackApiKey,
    deps.config.atmosCallbackHash,
  );
  const account = asText(fields.account) ?? asText(fields.invoice);
  const transactionId = asInteger(fields.transaction_id);
  /** The same id as our rows hold a provider's ids: text. */
  const externalId = transactionId === null ? null : String(transactionId);
  const amount = asInteger(fields.amount);

  if (!signValid) {
    // Anyone can post here: a bad sign is counted and logged (transaction id only), never stored,
    // so a flood of forged callbacks cannot fill the table.
    deps.metrics.callbacksBadSignature.inc();
    deps.metrics.callbacks.inc({ status: "0" });
    // Only the parsed integer transaction id: the other fields are attacker-chosen text.
    deps.logger.warn({ transactionId }, "atmos callback with a bad signature refused");
    return { status: 0, message: "Invalid signature" };
  }

  let reply: CallbackReply;
  let recheck: string | null = null;
  if (String(fields.store_id) !== deps.config.atmosStoreId) {
    reply = { status: 0, message: "Unknown store" };
  } else {
    const session = account ? await getSessionByAccount(deps.db, account) : null;
    if (!session) {
      reply = (account && (await renewalCallbackReply(deps.db, account, externalId, amount))) || {
        status: 0,
        message: "Invoice not found",
      };
    } else if (externalId === null || session.externalId !== externalId) {
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

  await deps.db.insert(providerCallbacks).values({
    provider: "atmos",
    externalId,
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
