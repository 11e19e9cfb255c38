import { LANGUAGES, type Language } from "./i18n";

/** The Redis commands the store uses: an ioredis `Redis` fits (the plugin does not depend on ioredis). */
export interface SupportRedis {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, mode: "EX", seconds: number): Promise<unknown>;
  del(key: string): Promise<number>;
}

/**
 * /paysupport state, kept in Redis so it survives a restart and is shared by every bot process:
 *
 * - `<prefix>open:<telegram id>` — an open conversation (TTL = SUPPORT_SESSION_TTL_S, renewed by every
 *   message and every operator reply). Its value is the id of the header message posted in the support
 *   chat for it ("0" until the first message), so later messages are posted as replies to that header.
 * - `<prefix>msg:<support chat id>:<message id>` — which user a message the bot posted in the support
 *   chat belongs to (TTL 30 days), so an operator's reply to it can be sent back to that user.
 */
export interface SupportSession {
  /** The header message in the support chat for this conversation, or null before the first message. */
  headerMessageId: number | null;
}

export interface SupportRelayTarget {
  telegramId: number;
  lang: Language;
  headerMessageId: number | null;
}

export interface SupportStore {
  /** Opens (or re-opens) a conversation; `headerMessageId` continues an existing thread in the support chat. */
  open(telegramId: number, ttlS: number, headerMessageId?: number | null): Promise<void>;
  get(telegramId: number): Promise<SupportSession | null>;
  /** Closes the conversation; true when one was open. */
  close(telegramId: number): Promise<boolean>;
  remember(chatId: number, messageId: number, target: SupportRelayTarget): Promise<void>;
  lookup(chatId: number, messageId: number): Promise<SupportRelayTarget | null>;
}

/** How long an operator can still answer a message the bot posted in the support chat. */
export const SUPPORT_RELAY_TTL_S = 30 * 86_400;

export function createRedisSupportStore(redis: SupportRedis, prefix = "bot:support:"): SupportStore {
  const openKey = (telegramId: number) => `${prefix}open:${telegramId}`;
  const msgKey = (chatId: number, messageId: number) => `${prefix}msg:${chatId}:${messageId}`;
  return {
    async open(telegramId, ttlS, headerMessageId = null) {
      await redis.set(openKey(telegramId), String(headerMessageId ?? 0), "EX", ttlS);
    },
    async get(telegramId) {
      const value = await redis.get(openKey(telegramId));
      if (value === null) return null;
      const header = Number(value);
      return { headerMessageId: Number.isSafeInteger(header) && header > 0 ? header : null };
    },
    async close(telegramId) {
      return (await redis.del(openKey(telegramId))) > 0;
    },
    async remember(chatId, messageId, target) {
      const value = JSON.stringify({ u: target.telegramId, l: target.lang, h: target.headerMessageId });
      await redis.set(msgKey(chatId, messageId), value, "EX", SUPPORT_RELAY_TTL_S);
    },
    async lookup(chatId, messageId) {
      const value = await redis.get(msgKey(chatId, messageId));
      if (value === null) return null;
      try {
        const parsed = JSON.parse(value) as { u?: unknown; l?: unknown; h?: unknown };
        if (typeof parsed.u !== "number" || !Number.isSafeInteger(parsed.u)) return null;
        const lang = (LANGUAGES as readonly unknown[]).includes(parsed.l) ? (parsed.l as Language) : "uz";
        const header = typeof parsed.h === "number" && parsed.h > 0 ? parsed.h : null;
        return { telegramId: parsed.u, lang, headerMessageId: header };
      } catch {
        return null;
      }
    },
  };
}
