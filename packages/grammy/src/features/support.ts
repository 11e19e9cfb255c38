import { formatSom } from "@obuna/contracts/money";
import { Composer, GrammyError, InlineKeyboard } from "grammy";
import { CALLBACK_PATTERNS, callbackData } from "../callback-data";
import { containsCardNumber } from "../card-numbers";
import type { ObunaContext } from "../context";
import { GatewayError } from "../gateway-client";
import { formatDay, type SupportHeaderView, t } from "../i18n";
import { loadSubscription } from "./account";

/** Operators read the header in the bot's default language. */
const OPERATOR_LANGUAGE = "uz" as const;

/** The user's plan and last payment for the operators, or "unavailable" when the gateway cannot say. */
async function headerView(ctx: ObunaContext): Promise<SupportHeaderView> {
  const from = ctx.from!;
  const [subscription, lastPayment] = await Promise.all([
    loadSubscription(ctx)
      .then((sub): SupportHeaderView["subscription"] =>
        sub
          ? {
              plan: sub.plan.name,
              status: sub.status,
              endDate: formatDay(sub.end_date),
              autoRenew: sub.auto_renew,
              card: sub.card?.pan_masked ?? null,
            }
          : null,
      )
      .catch(() => "unavailable" as const),
    ctx.obuna.gateway
      .listPayments(from.id)
      .then(({ payments }): SupportHeaderView["lastPayment"] => {
        const latest = payments[0];
        return latest
          ? {
              date: formatDay(latest.created_at),
              amount: formatSom(latest.amount),
              status: latest.status,
              card: latest.card_masked,
            }
          : null;
      })
      .catch((error: unknown) =>
        error instanceof GatewayError && error.code === "USER_NOT_FOUND" ? null : ("unavailable" as const),
      ),
  ]);
  return {
    telegramId: from.id,
    name: [from.first_name, from.last_name].filter(Boolean).join(" "),
    username: from.username ?? null,
    lang: ctx.obuna.lang,
    subscription,
    lastPayment,
  };
}

/**
 * /paysupport and the support conversation (issue 16).
 *
 * With SUPPORT_CHAT_ID: /paysupport opens a conversation (Redis, TTL SUPPORT_SESSION_TTL_S); the user's
 * next private messages are copied to the support chat, the first one under a header with their
 * Telegram id, subscription and last payment. An operator's reply (in the support chat) to one of those
 * messages is sent back to the user with a "Support:" prefix and re-opens the conversation, so the
 * user's answer goes to the same thread. A message that holds a card number is never forwarded.
 * Without SUPPORT_CHAT_ID, /paysupport shows SUPPORT_CONTACT.
 *
 * Place after the command features and before `unhandledFeature`: only messages nobody else took
 * reach it, and without an open conversation it passes them on ("I did not understand").
 */
export function supportFeature(): Composer<ObunaContext> {
  const feature = new Composer<ObunaContext>();

  feature.command("paysupport", async (ctx) => {
    const support = ctx.obuna.support;
    if (!support?.chatId) {
      await ctx.reply(ctx.obuna.t.supportContact(support?.contact ?? null));
      return;
    }
    if (ctx.chat.type !== "private") {
      const username = ctx.me.username;
      await ctx.reply(ctx.obuna.t.supportInPrivate, {
        reply_parameters: { message_id: ctx.msg.message_id, allow_sending_without_reply: true },
        ...(username
          ? {
              reply_markup: new InlineKeyboard().url(
                ctx.obuna.t.openInPrivateButton,
                `https://t.me/${username}`,
              ),
            }
          : {}),
      });
      return;
    }
    await support.store.open(ctx.from!.id, support.sessionTtlS);
    await ctx.reply(ctx.obuna.t.paySupport, {
      reply_markup: new InlineKeyboard().text(ctx.obuna.t.supportCloseButton, callbackData.supportClose()),
    });
  });

  feature.callbackQuery(CALLBACK_PATTERNS.supportClose, async (ctx) => {
    await ctx.answerCallbackQuery();
    await ctx.obuna.support?.store.close(ctx.from.id);
    await ctx.reply(ctx.obuna.t.supportClosed);
  });

  // The user's side: private messages while a conversation is open.
  feature.chatType("private").on("message", async (ctx, next) => {
    const support = ctx.obuna.support;
    const startsWithCommand = ctx.msg.entities?.some((e) => e.type === "bot_command" && e.offset === 0);
    if (!support?.chatId || startsWithCommand) return next();
    const session = await support.store.get(ctx.from.id);
    if (!session) return next();

    const text = ctx.msg.text ?? ctx.msg.caption ?? "";
    if (containsCardNumber(text)) {
      ctx.obuna.logger.warn({ telegramId: ctx.from.id }, "support message with a card number not forwarded");
      await ctx.reply(ctx.obuna.t.supportCardRefused, {
        reply_parameters: { message_id: ctx.msg.message_id, allow_sending_without_reply: true },
      });
      return;
    }

    const chatId = support.chatId;
    let headerMessageId = session.headerMessageId;
    let copiedId: number;
    try {
      if (headerMessageId === null) {
        const header = await ctx.api.sendMessage(
          chatId,
          t(OPERATOR_LANGUAGE).supportHeader(await headerView(ctx)),
        );
        headerMessageId = header.message_id;
        await support.store.remember(chatId, headerMessageId, {
          telegramId: ctx.from.id,
          lang: ctx.obuna.lang,
          headerMessageId,
        });
      }
      const copied = await ctx.api.copyMessage(chatId, ctx.chat.id, ctx.msg.message_id, {
        reply_parameters: { message_id: headerMessageId, allow_sending_without_reply: true },
      });
      copiedId = copied.message_id;
    } catch (error) {
      if (!(error instanceof GrammyError)) throw error;
      // 400 on the copy: Telegram cannot copy this kind of message. Anything else: the support chat is gone.
      const unsupported = error.error_code === 400 && headerMessageId !== null;
      ctx.obuna.logger.error(
        { telegramId: ctx.from.id, err: { message: error.description } },
        unsupported ? "support message could not be copied" : "support chat unreachable",
      );
      await ctx.reply(
        unsupported
          ? ctx.obuna.t.supportUnsupported
          : ctx.obuna.t.supportUnavailable(support.contact ?? null),
      );
      if (unsupported) await support.store.open(ctx.from.id, support.sessionTtlS, headerMessageId);
      return;
    }
    await support.store.remember(chatId, copiedId, {
      telegramId: ctx.from.id,
      lang: ctx.obuna.lang,
      headerMessageId,
    });
    await support.store.open(ctx.from.id, support.sessionTtlS, headerMessageId);
    ctx.obuna.logger.info(
      { telegramId: ctx.from.id, supportMessageId: copiedId },
      "support message forwarded",
    );
    if (session.headerMessageId === null) {
      await ctx.reply(ctx.obuna.t.supportForwarded, {
        reply_markup: new InlineKeyboard().text(ctx.obuna.t.supportCloseButton, callbackData.supportClose()),
      });
    }
  });

  // The operators' side: a reply in the support chat to a message the bot posted there.
  feature.on("message", async (ctx, next) => {
    const support = ctx.obuna.support;
    const repliedTo = ctx.msg.reply_to_message;
    if (!support?.chatId || ctx.chat.id !== support.chatId || !repliedTo) return next();
    const target = await support.store.lookup(support.chatId, repliedTo.message_id);
    if (!target) return next();

    const prefix = t(target.lang).supportReplyPrefix;
    try {
      if (ctx.msg.text !== undefined) {
        await ctx.api.sendMessage(target.telegramId, `${prefix}\n${ctx.msg.text}`);
      } else {
        await ctx.api.sendMessage(target.telegramId, prefix);
        await ctx.api.copyMessage(target.telegramId, ctx.chat.id, ctx.msg.message_id);
      }
    } catch (error) {
      if (!(error instanceof GrammyError)) throw error;
      ctx.obuna.logger.warn(
        { telegramId: target.telegramId, err: { message: error.description } },
        "support answer not delivered",
      );
      await ctx.reply(t(OPERATOR_LANGUAGE).supportNotDelivered, {
        reply_parameters: { message_id: ctx.msg.message_id, allow_sending_without_reply: true },
      });
      return;
    }
    // The user's answer should reach the same thread, even after the conversation timed out.
    await support.store.open(target.telegramId, support.sessionTtlS, target.headerMessageId);
    ctx.obuna.logger.info({ telegramId: target.telegramId }, "support answer delivered");
  });

  return feature;
}
