import { pickLanguage } from "@obuna/contracts/http";
import type { PaymentSession } from "@obuna/db";
import { attachTransaction, getSessionView, updatePendingSession } from "@obuna/db/queries";
import type { Caller } from "../../context";
import { asResult, type CheckoutResult, refuse } from "../outcome";
import { callProvider, retryPreMoney } from "./faults";
import { assertPayable, type Deps, loadSession, newPaymentReference } from "./session";

export interface CreatedPayment {
  session_id: string;
  transaction_id: number;
  amount: number;
  auto_renew: boolean;
  status: PaymentSession["status"];
}

/** checkout/create: the provider payment for a session (the amount must equal the plan price). */
export function createPayment(
  deps: Deps,
  caller: Caller,
  input: { session_id: string; amount: number; auto_renew: boolean },
): Promise<CheckoutResult<CreatedPayment>> {
  return asResult(async () => {
    const view = await loadSession(deps, caller, input.session_id);
    const { session } = view;
    assertPayable(session);
    if (input.amount !== session.amount) {
      deps.logger.warn(
        { sessionId: session.id, expected: session.amount, given: input.amount },
        "amount mismatch refused",
      );
      refuse("AMOUNT_MISMATCH", "amount does not match the plan price", {
        field: "amount",
        details: { expected: session.amount },
      });
    }
    const now = deps.clock();
    let current: PaymentSession | null = session;
    if (session.externalId === null) {
      // A fresh reference per try: a payment a faulted create left at the provider matches no session.
      const created = await callProvider(() =>
        retryPreMoney(deps, "create", async () => {
          const reference = newPaymentReference(deps.clock());
          const payment = await deps.provider.createPayment({
            amount: session.amount,
            reference,
            lang: view.language ?? pickLanguage(view.languageCode),
          });
          return { externalId: payment.externalId, reference };
        }),
      );
      current = await attachTransaction(deps.db, session.id, {
        externalId: created.externalId,
        providerReference: created.reference,
        autoRenew: input.auto_renew,
        now,
      });
      // Lost a race with a concurrent create: the other payment is the session's (ours is never charged).
      if (!current) current = (await getSessionView(deps.db, session.id))!.session;
    } else if (session.autoRenew !== input.auto_renew) {
      // The choice can change until a card is entered.
      if (session.otpSentAt !== null) {
        refuse("INVALID_STATE", "auto_renew cannot change after the card was entered", {
          field: "auto_renew",
        });
      }
      current =
        (await updatePendingSession(deps.db, session.id, { autoRenew: input.auto_renew, now })) ?? session;
    }
    return {
      session_id: current.id,
      // The wire contract keeps ATMOS's numeric transaction id.
      transaction_id: Number(current.externalId),
      amount: current.amount,
      auto_renew: current.autoRenew,
      status: current.status,
    };
  });
}
