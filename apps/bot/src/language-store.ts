import type { Redis } from "ioredis";
import type { Language } from "./i18n";
import { LANGUAGES } from "./i18n";

/** The language a user picked in /start, kept in Redis (the bot never writes the users table). */
export interface LanguageStore {
  get(telegramId: number): Promise<Language | null>;
  set(telegramId: number, lang: Language): Promise<void>;
}

export function createRedisLanguageStore(redis: Redis, prefix = "bot:lang:"): LanguageStore {
  return {
    async get(telegramId) {
      const value = await redis.get(`${prefix}${telegramId}`);
      return value && (LANGUAGES as readonly string[]).includes(value) ? (value as Language) : null;
    },
    async set(telegramId, lang) {
      await redis.set(`${prefix}${telegramId}`, lang);
    },
  };
}
