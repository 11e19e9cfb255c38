import { isIP } from "node:net";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { Redis } from "ioredis";
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from "rate-limiter-flexible";
import type { HonoEnv } from "../context";
import { ApiError } from "../errors";
import { requestLogger } from "./init";

/**
 * Abuse limits (security item 6), counted in Redis so every gateway replica shares them (except
 * `links_user`, counted in Postgres by create-link's own statement: see {@link RedisLimitName}). When Redis
 * cannot answer, each limiter falls back to a per-process memory limiter with the same budget
 * (rate-limiter-flexible's `insuranceLimiter`): a Redis outage degrades the limits to per replica
 * instead of failing payments or lifting them.
 */
export interface AbuseLimitsConfig {
  /** SMS-sending calls (pre-apply, resend-otp; pre-apply covers the bind-card init) per session per hour. */
  smsPerSessionPerHour: number;
  /** The same, per Telegram user across all their sessions, per hour. */
  smsPerUserPerHour: number;
  /** Payment links (create-link) per Telegram user per hour. */
  linksPerUserPerHour: number;
  /** apply calls per session per hour (the wrong-code limit of 5 per session stays on top). */
  applyPerSessionPerHour: number;
  /** Admin sign-in attempts per client IP per 15 minutes (successful ones are given back). */
  adminSignInPerIpPer15Min: number;
}

export const DEFAULT_ABUSE_LIMITS: AbuseLimitsConfig = {
  smsPerSessionPerHour: 5,
  smsPerUserPerHour: 15,
  linksPerUserPerHour: 20,
  applyPerSessionPerHour: 30,
  adminSignInPerIpPer15Min: 10,
};

const HOUR_S = 3600;

export type LimitName = "sms_session" | "sms_user" | "links_user" | "apply_session" | "admin_sign_in_ip";

/**
 * The limits counted in Redis. `links_user` is counted on the user's row by the statement that creates
 * the link (`createSessionForTelegramUser`): the database already writes that row on every create-link,
 * so the count costs no round trip, is exact across replicas and survives a Redis outage.
 */
export type RedisLimitName = Exclude<LimitName, "links_user">;

export type AbuseLimits = Record<RedisLimitName, RateLimiterAbstract>;

/** The payment-link limit's window: one hour. */
export const LINKS_WINDOW_S = HOUR_S;

export function createAbuseLimits(
  redis: Redis | undefined,
  patch: Partial<AbuseLimitsConfig> = {},
): AbuseLimits {
  const config = { ...DEFAULT_ABUSE_LIMITS, ...patch };
  const limiter = (name: RedisLimitName, points: number, duration: number): RateLimiterAbstract => {
    const insuranceLimiter = new RateLimiterMemory({ keyPrefix: `obuna:rl:${name}`, points, duration });
    if (!redis) return insuranceLimiter;
    return new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: `obuna:rl:${name}`,
      points,
      duration,
      insuranceLimiter,
    });
  };
  return {
    sms_session: limiter("sms_session", config.smsPerSessionPerHour, HOUR_S),
    sms_user: limiter("sms_user", config.smsPerUserPerHour, HOUR_S),
    apply_session: limiter("apply_session", config.applyPerSessionPerHour, HOUR_S),
    admin_sign_in_ip: limiter("admin_sign_in_ip", config.adminSignInPerIpPer15Min, 15 * 60),
  };
}

const MESSAGES: Record<LimitName, string> = {
  sms_session: "Too many SMS codes requested for this payment",
  sms_user: "Too many SMS codes requested",
  links_user: "Too many payment links requested",
  apply_session: "Too many confirmation attempts for this payment",
  admin_sign_in_ip: "Too many sign-in attempts",
};

/** Takes one point from each `[limit, key]`; the first exhausted one answers 429 RATE_LIMITED. */
export async function consumeLimits(
  c: Context<HonoEnv>,
  checks: ReadonlyArray<readonly [RedisLimitName, string | number]>,
): Promise<void> {
  const { limits } = c.get("deps");
  for (const [name, key] of checks) {
    try {
      await limits[name].consume(String(key));
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      throw rateLimited(c, name, error.msBeforeNext);
    }
  }
}

/** The 429 RATE_LIMITED answer of an exhausted limit (counted in the metrics and logged). */
export function rateLimited(c: Context<HonoEnv>, name: LimitName, msBeforeNext: number): ApiError {
  const retryAfterS = Math.max(1, Math.ceil(msBeforeNext / 1000));
  c.get("deps").metrics.rateLimited.inc({ limit: name });
  requestLogger(c).warn({ limit: name, retryAfterS }, "rate limited");
  return new ApiError("RATE_LIMITED", `${MESSAGES[name]}; try again in ${retryAfterS} s`, {
    details: { limit: name, retry_after_s: retryAfterS },
  });
}

/** The header a trusted proxy (the Mini App server) sets to the address of its own client. */
export const CLIENT_IP_HEADER = "x-obuna-client-ip";

function withoutV4Prefix(address: string): string {
  return address.startsWith("::ffff:") && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/**
 * The caller's IP: the TCP peer, unless the peer is one of `TRUSTED_PROXY_IPS`, in which case the
 * proxy's `x-obuna-client-ip` header. X-Forwarded-For is never read: anyone can send it.
 */
export function clientIp(c: Context<HonoEnv>): string {
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  const peer = withoutV4Prefix(incoming?.socket?.remoteAddress ?? "unknown");
  const trusted = c.get("deps").config.trustedProxyIps ?? [];
  if (trusted.includes(peer)) {
    const forwarded = c.req.header(CLIENT_IP_HEADER)?.trim();
    if (forwarded && isIP(forwarded)) return withoutV4Prefix(forwarded);
  }
  return peer;
}

/**
 * Admin sign-in attempts per client IP: every attempt takes a point before the credentials are
 * checked (so parallel guesses cannot slip through), and a successful sign-in gives it back.
 */
export const limitAdminSignIn = createMiddleware<HonoEnv>(async (c, next) => {
  const ip = clientIp(c);
  await consumeLimits(c, [["admin_sign_in_ip", ip]]);
  await next();
  if (c.res.status === 200) await c.get("deps").limits.admin_sign_in_ip.reward(ip, 1);
});
