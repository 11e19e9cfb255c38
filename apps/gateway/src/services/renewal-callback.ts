import type { Database } from "@obuna/db";
import { renewalAttempts } from "@obuna/db/schema";
import { eq } from "drizzle-orm";
import type { CallbackReply } from "./callback";

/** Renewal charges (apps/renewals `renewalAccount`) use the account `7` + the 12-digit attempt id. */
const RENEWAL_ACCOUNT = /^7\d{12}$/;

/**
 * ATMOS calls the store's one callback URL for every payment, the renewal worker's token charges
 * included: answer them from the renewal attempt (its transaction id is recorded right after create,
 * before pre-apply/apply). Returns null when the account is not a renewal account.
 */
export async function renewalCallbackReply(
  db: Database,
  account: string,
  externalId: string | null,
  amount: number | null,
): Promise<CallbackReply | null> {
  if (!RENEWAL_ACCOUNT.test(account)) return null;
  const [attempt] = await db
    .select({
      externalId: renewalAttempts.externalId,
      amount: renewalAttempts.amount,
      status: renewalAttempts.status,
    })
    .from(renewalAttempts)
    .where(eq(renewalAttempts.id, Number(account.slice(1))));
  if (!attempt) return { status: 0, message: "Invoice not found" };
  if (externalId === null || attempt.externalId !== externalId) {
    return { status: 0, message: "Transaction not found" };
  }
  if (amount === null || amount !== attempt.amount) return { status: 0, message: "Amount mismatch" };
  // Replays of a paid attempt are accepted, as for sessions; a closed attempt is not payable.
  if (attempt.status === "failed") return { status: 0, message: "Renewal attempt is closed" };
  return { status: 1, message: "Success" };
}
