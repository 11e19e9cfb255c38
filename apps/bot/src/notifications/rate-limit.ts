import type { Redis } from "ioredis";

/**
 * Telegram allows about 30 messages per second overall and about one per second per chat.
 *
 * Overall: a sliding-window log in Redis (one sorted set, updated by a Lua script using Redis's own
 * clock), so the limit holds across every bot process and in *any* window, not just fixed
 * one-second buckets (BullMQ's `limiter` is a fixed window: up to 2× the rate across a boundary).
 * The window is a little longer than a second by default (1 100 ms) to absorb network jitter between
 * taking a permit and Telegram receiving the message.
 *
 * Per chat: a `SET NX PX` key per chat; a job that finds it taken is delayed, not failed.
 *
 * Headroom (issue 16): notifications get 25 of those 30 by default (NOTIFICATIONS_PER_SECOND), so a
 * burst of notifications leaves room for command replies, which are not counted here.
 */
const SLIDING_WINDOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now)
`;

/** The notification worker's default share of Telegram's ~30 messages/s (the rest is for replies). */
export const DEFAULT_NOTIFICATIONS_PER_SECOND = 25;

export interface RateLimitOptions {
  /** Messages per window overall (default DEFAULT_NOTIFICATIONS_PER_SECOND = 25). */
  globalLimit?: number;
  /** Window length in ms (default 1 100). */
  globalWindowMs?: number;
  /** Minimum gap between two messages to one chat, ms (default 1 000). */
  perChatGapMs?: number;
  keyPrefix?: string;
}

export interface SendRateLimiter {
  /** Waits until a global permit is free, then takes it. */
  acquireGlobal(): Promise<void>;
  /** Takes the chat's slot, or returns how many ms until it frees up. */
  tryAcquireChat(chatId: number): Promise<{ ok: true } | { ok: false; retryInMs: number }>;
}

let permitCounter = 0;

export function createSendRateLimiter(redis: Redis, options: RateLimitOptions = {}): SendRateLimiter {
  const limit = options.globalLimit ?? DEFAULT_NOTIFICATIONS_PER_SECOND;
  const windowMs = options.globalWindowMs ?? 1_100;
  const gapMs = options.perChatGapMs ?? 1_000;
  const prefix = options.keyPrefix ?? "bot:rate:";
  const globalKey = `${prefix}global`;

  return {
    async acquireGlobal() {
      for (;;) {
        const member = `${process.pid}-${Date.now()}-${permitCounter++}`;
        const waitMs = Number(await redis.eval(SLIDING_WINDOW, 1, globalKey, windowMs, limit, member));
        if (waitMs === 0) return;
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
    },
    async tryAcquireChat(chatId) {
      const key = `${prefix}chat:${chatId}`;
      const taken = await redis.set(key, "1", "PX", gapMs, "NX");
      if (taken === "OK") return { ok: true };
      const ttl = await redis.pttl(key);
      return { ok: false, retryInMs: Math.max(ttl, 1) };
    },
  };
}
