import type { Language } from "@obuna/grammy/i18n";
import { LANGUAGES } from "@obuna/grammy/i18n";
import type { Redis } from "ioredis";

/**
 * The language a user picked in /start. The truth is `users.language` in Postgres, written through the
 * gateway (`PUT /api/v1/user/{id}/language`; the bot never writes the users table) so the Mini App and
 * the notifications speak it too. Redis keeps a copy: choices made before the column existed, and the
 * answer while the gateway is unreachable.
 */
export interface LanguageStore {
  get(telegramId: number): Promise<Language | null>;
  set(telegramId: number, lang: Language): Promise<void>;
}

const isLanguage = (value: unknown): value is Language =>
  typeof value === "string" && (LANGUAGES as readonly string[]).includes(value);

export function createRedisLanguageStore(redis: Redis, prefix = "bot:lang:"): LanguageStore {
  return {
    async get(telegramId) {
      const value = await redis.get(`${prefix}${telegramId}`);
      return isLanguage(value) ? value : null;
    },
    async set(telegramId, lang) {
      await redis.set(`${prefix}${telegramId}`, lang);
    },
  };
}

export interface UserLanguageStoreOptions {
  /** Redis copy (see above). */
  cache: LanguageStore;
  /** `users.language` (read-only for the bot). */
  readStored(telegramId: number): Promise<Language | null>;
  /** The gateway's PUT /user/{id}/language. */
  persist(telegramId: number, lang: Language): Promise<void>;
  /** A choice the gateway did not take: kept in Redis; create-link's `language` stores it later. */
  onPersistError?(telegramId: number, error: unknown): void;
}

/** The stored choice first (it may have been made in the Mini App), then the Redis copy. */
export function createUserLanguageStore(options: UserLanguageStoreOptions): LanguageStore {
  return {
    async get(telegramId) {
      const stored = await options.readStored(telegramId).catch(() => null);
      return stored ?? (await options.cache.get(telegramId));
    },
    async set(telegramId, lang) {
      await options.cache.set(telegramId, lang);
      try {
        await options.persist(telegramId, lang);
      } catch (error) {
        options.onPersistError?.(telegramId, error);
      }
    },
  };
}
