import { Composer } from "grammy";
import type { ObunaContext } from "../context";

/**
 * Telegram Stars updates (docs/stars.md). `pre_checkout_query` is answered here, in the update
 * handler, after the gateway's check: Telegram waits 10 s for the answer and then drops the payment,
 * so it never goes through a queue, and any failure answers "no" (never a silent timeout).
 * `successful_payment` and `refunded_payment` are Telegram's word that money moved: the gateway
 * records them (once per charge id, so a redelivered update changes nothing).
 */
export function starsFeature(): Composer<ObunaContext> {
  const feature = new Composer<ObunaContext>();

  feature.on("pre_checkout_query", async (ctx) => {
    const query = ctx.preCheckoutQuery;
    const check = ctx.obuna.gateway.checkStarsPreCheckout;
    let ok = false;
    let reason: string | null = "stars_unavailable";
    if (check) {
      try {
        const verdict = await check({
          pre_checkout_query: {
            id: query.id,
            from: { id: query.from.id },
            currency: query.currency,
            total_amount: query.total_amount,
            invoice_payload: query.invoice_payload,
          },
        });
        ok = verdict.ok;
        reason = verdict.reason;
      } catch (error) {
        reason = "gateway_error";
        ctx.obuna.logger.error(
          { err: { message: (error as Error).message }, queryId: query.id },
          "stars pre-checkout check failed: refused",
        );
      }
    }
    ctx.obuna.logger.info({ queryId: query.id, ok, reason }, "stars pre-checkout answered");
    if (ok) await ctx.answerPreCheckoutQuery(true);
    else await ctx.answerPreCheckoutQuery(false, { error_message: ctx.obuna.t.starsCheckoutRefused });
  });

  feature.on("message:successful_payment", async (ctx) => {
    const payment = ctx.message.successful_payment;
    if (!ctx.obuna.gateway.recordStarsPayment || payment.currency !== "XTR") return;
    const result = await ctx.obuna.gateway.recordStarsPayment({
      telegram_id: ctx.from.id,
      successful_payment: {
        currency: payment.currency,
        total_amount: payment.total_amount,
        invoice_payload: payment.invoice_payload,
        telegram_payment_charge_id: payment.telegram_payment_charge_id,
        provider_payment_charge_id: payment.provider_payment_charge_id,
        ...(payment.subscription_expiration_date
          ? { subscription_expiration_date: payment.subscription_expiration_date }
          : {}),
        ...(payment.is_recurring ? { is_recurring: true } : {}),
        ...(payment.is_first_recurring ? { is_first_recurring: true } : {}),
      },
    });
    // Premium changed: the next ctx.premium asks the gateway. The user's message comes from the outbox.
    ctx.obuna.invalidatePremium();
    ctx.obuna.logger.info(
      { chargeId: payment.telegram_payment_charge_id, status: result.status, paymentId: result.payment_id },
      "stars payment relayed",
    );
  });

  feature.on("message:refunded_payment", async (ctx) => {
    const refund = ctx.message.refunded_payment;
    if (!ctx.obuna.gateway.recordStarsRefund) return;
    const result = await ctx.obuna.gateway.recordStarsRefund({
      telegram_id: ctx.from.id,
      refunded_payment: {
        currency: refund.currency,
        total_amount: refund.total_amount,
        invoice_payload: refund.invoice_payload,
        telegram_payment_charge_id: refund.telegram_payment_charge_id,
        ...(refund.provider_payment_charge_id
          ? { provider_payment_charge_id: refund.provider_payment_charge_id }
          : {}),
      },
    });
    ctx.obuna.invalidatePremium();
    ctx.obuna.logger.info(
      { chargeId: refund.telegram_payment_charge_id, status: result.status },
      "stars refund relayed",
    );
  });

  return feature;
}
