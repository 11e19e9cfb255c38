import { randomInt } from "node:crypto";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { createAtmosClient } from "@obuna/atmos";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import type { GatewayConfig } from "../src/context";
import { DEFAULT_ABUSE_LIMITS } from "../src/middleware/rate-limit";
import { STORE_ID } from "./constants";
import {
  apply,
  call,
  createSession,
  type Harness,
  internalAuth,
  type Json,
  prepareSession,
  randomTelegramId,
  SANDBOX_CARDS,
  sandboxRail,
  startHarness,
  testGatewayConfig,
  tma,
} from "./harness";

/**
 * Abuse limits (security item 6). Every limit is checked across two gateway app instances that
 * share only Redis (the harness's app and a second one built from the same dependencies): requests
 * alternate between them, so a per-process count would let twice as many through.
 */
let h: Harness;
let replica: ReturnType<typeof createApp>;

function secondReplica(config: Partial<GatewayConfig> = {}, admin?: Parameters<typeof createApp>[1]) {
  return createApp(
    {
      db: h.db.db,
      ...sandboxRail(
        createAtmosClient({
          baseUrl: h.sandbox.url,
          consumerKey: "sandbox_consumer_key",
          consumerSecret: "sandbox_consumer_secret",
          storeId: STORE_ID,
          timeoutMs: 5_000,
          retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 },
        }),
      ),
      notificationsQueue: h.queue,
      redis: h.redis,
      logger: pino({ level: "silent" }),
      clock: () => new Date(Date.now() + h.clock.offsetMs),
      config: testGatewayConfig(config),
    },
    admin,
  );
}

beforeAll(async () => {
  h = await startHarness();
  replica = secondReplica();
});
afterAll(async () => {
  await h?.close();
});

/** Request number `i` goes to one replica or the other. */
async function callOn(i: number, method: string, path: string, options: Parameters<typeof call>[3]) {
  return call(i % 2 === 0 ? h : { ...h, app: replica }, method, path, options);
}

function expectRateLimited(res: { status: number; body: Json; headers: Headers }, limit: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(429);
  expect(res.body.error.code).toBe("RATE_LIMITED");
  expect(res.body.error.details.limit).toBe(limit);
  const retryAfter = Number(res.headers.get("retry-after"));
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(3600);
  expect(res.body.error.details.retry_after_s).toBe(retryAfter);
}

const preApplyCalls = () => h.sandbox.requests().filter((r) => r.path === "/merchant/pay/pre-apply").length;

/** create-link + create as the user; returns what pre-apply needs. */
async function openSession(telegramId: number) {
  const auth = tma(telegramId);
  const link = await createSession(h, telegramId);
  const created = await call(h, "POST", "/api/v1/checkout/create", {
    auth,
    body: { session_id: link.session_id, amount: 2_900_000, auto_renew: false },
  });
  expect(created.status).toBe(200);
  return { auth, sessionId: link.session_id, transactionId: created.body.data.transaction_id as number };
}

function preApplyOn(i: number, s: { auth: string; sessionId: string; transactionId: number }) {
  return callOn(i, "POST", "/api/v1/checkout/pre-apply", {
    auth: s.auth,
    body: {
      session_id: s.sessionId,
      transaction_id: s.transactionId,
      card_number: SANDBOX_CARDS.humo1.pan,
      expiry: SANDBOX_CARDS.humo1.expiry,
    },
  });
}

describe("SMS-sending calls", () => {
  it("per session: the 6th SMS within the hour is refused with 429 + Retry-After, across two replicas, and ATMOS is not asked", async () => {
    const s = await openSession(randomTelegramId());
    const perSession = DEFAULT_ABUSE_LIMITS.smsPerSessionPerHour;
    const before = preApplyCalls();
    for (let i = 0; i < perSession; i++) expect((await preApplyOn(i, s)).status).toBe(200);
    expect(preApplyCalls() - before).toBe(perSession);
    expectRateLimited(await preApplyOn(perSession, s), "sms_session");
    // resend-otp is an SMS-sending call of the same session: refused too.
    expectRateLimited(
      await callOn(1, "POST", "/api/v1/checkout/resend-otp", {
        auth: s.auth,
        body: { session_id: s.sessionId, transaction_id: s.transactionId },
      }),
      "sms_session",
    );
    expect(preApplyCalls() - before).toBe(perSession);
  });

  it("per Telegram user: the 16th SMS in an hour is refused across sessions and replicas", async () => {
    const telegramId = randomTelegramId();
    const perUser = DEFAULT_ABUSE_LIMITS.smsPerUserPerHour;
    const perSession = DEFAULT_ABUSE_LIMITS.smsPerSessionPerHour;
    const before = preApplyCalls();
    let sent = 0;
    let s = await openSession(telegramId);
    for (let i = 0; sent < perUser; i++) {
      if (sent > 0 && sent % perSession === 0) s = await openSession(telegramId);
      expect((await preApplyOn(i, s)).status).toBe(200);
      sent++;
    }
    expect(preApplyCalls() - before).toBe(perUser);
    // A fresh session of the same user has its own per-session budget, but the user's is spent.
    const fresh = await openSession(telegramId);
    expectRateLimited(await preApplyOn(1, fresh), "sms_user");
    expect(preApplyCalls() - before).toBe(perUser);
    // Another user is not affected.
    expect((await preApplyOn(0, await openSession(randomTelegramId()))).status).toBe(200);
  });
});

describe("payment links", () => {
  it("the bot's create-link for one user is refused after the hourly budget, across replicas", async () => {
    const telegramId = randomTelegramId();
    const body = { telegram_id: telegramId, plan_slug: "monthly", first_name: "Test", language_code: "uz" };
    for (let i = 0; i < DEFAULT_ABUSE_LIMITS.linksPerUserPerHour; i++) {
      const res = await callOn(i, "POST", "/api/v1/payment/create-link", { auth: internalAuth, body });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
    const refused = await callOn(1, "POST", "/api/v1/payment/create-link", {
      auth: internalAuth,
      body,
      headers: { "idempotency-key": `links-${telegramId}` },
    });
    expectRateLimited(refused, "links_user");
    // A refusal does not use up its Idempotency-Key: the same key can be retried after the wait.
    const again = await callOn(0, "POST", "/api/v1/payment/create-link", {
      auth: internalAuth,
      body,
      headers: { "idempotency-key": `links-${telegramId}` },
    });
    expect(again.headers.get("idempotent-replayed")).toBeNull();
    expectRateLimited(again, "links_user");
    // Other users still get links.
    const other = await callOn(0, "POST", "/api/v1/payment/create-link", {
      auth: internalAuth,
      body: { ...body, telegram_id: randomTelegramId() },
    });
    expect(other.status).toBe(200);
  });
});

describe("payment links, counted in Postgres by create-link's own statement", () => {
  const linkBody = (telegramId: number) => ({
    telegram_id: telegramId,
    plan_slug: "monthly",
    first_name: "Test",
  });
  const sessionsOf = async (telegramId: number) => {
    const [row] = await h.db.client<{ n: number }[]>`
      select count(*)::int as n from payment_sessions s join users u on u.id = s.user_id
      where u.telegram_id = ${telegramId}`;
    return row!.n;
  };

  it("parallel calls for one user across both replicas get exactly the budget, and a refusal writes no session", async () => {
    const telegramId = randomTelegramId();
    const budget = DEFAULT_ABUSE_LIMITS.linksPerUserPerHour;
    // The first call creates the user; then a burst: a count taken from the statement's snapshot
    // (rather than the locked row) would let several calls of the burst through over the budget.
    expect(
      (
        await callOn(0, "POST", "/api/v1/payment/create-link", {
          auth: internalAuth,
          body: linkBody(telegramId),
        })
      ).status,
    ).toBe(200);
    const burst = await Promise.all(
      Array.from({ length: budget + 10 }, (_, i) =>
        callOn(i, "POST", "/api/v1/payment/create-link", { auth: internalAuth, body: linkBody(telegramId) }),
      ),
    );
    expect(burst.filter((r) => r.status === 200)).toHaveLength(budget - 1);
    for (const refused of burst.filter((r) => r.status !== 200)) expectRateLimited(refused, "links_user");
    expect(await sessionsOf(telegramId)).toBe(budget);
  });

  it("the window is an hour from its first call: Retry-After counts down to it, and then links are given again", async () => {
    const telegramId = randomTelegramId();
    const budget = DEFAULT_ABUSE_LIMITS.linksPerUserPerHour;
    const start = h.clock.offsetMs;
    try {
      for (let i = 0; i < budget; i++) {
        const res = await callOn(i, "POST", "/api/v1/payment/create-link", {
          auth: internalAuth,
          body: linkBody(telegramId),
        });
        expect(res.status).toBe(200);
      }
      h.clock.offsetMs = start + 20 * 60_000;
      const refused = await callOn(0, "POST", "/api/v1/payment/create-link", {
        auth: internalAuth,
        body: linkBody(telegramId),
      });
      expectRateLimited(refused, "links_user");
      // 40 minutes of the hour are left (give or take the seconds the calls took).
      expect(refused.body.error.details.retry_after_s).toBeGreaterThan(39 * 60);
      expect(refused.body.error.details.retry_after_s).toBeLessThanOrEqual(40 * 60);
      h.clock.offsetMs = start + 61 * 60_000;
      const next = await callOn(1, "POST", "/api/v1/payment/create-link", {
        auth: internalAuth,
        body: linkBody(telegramId),
      });
      expect(next.status, JSON.stringify(next.body)).toBe(200);
      expect(await sessionsOf(telegramId)).toBe(budget + 1);
    } finally {
      h.clock.offsetMs = start;
    }
  });

  it("an unknown plan neither counts nor writes anything", async () => {
    const telegramId = randomTelegramId();
    for (let i = 0; i < DEFAULT_ABUSE_LIMITS.linksPerUserPerHour + 2; i++) {
      const res = await callOn(i, "POST", "/api/v1/payment/create-link", {
        auth: internalAuth,
        body: { ...linkBody(telegramId), plan_slug: "no-such-plan" },
      });
      expect(res.status).toBe(404);
    }
    const [user] = await h.db.client`select 1 from users where telegram_id = ${telegramId}`;
    expect(user).toBeUndefined();
    expect(
      (
        await callOn(0, "POST", "/api/v1/payment/create-link", {
          auth: internalAuth,
          body: linkBody(telegramId),
        })
      ).status,
    ).toBe(200);
  });
});

describe("apply attempts", () => {
  it("apply calls on one session are refused after the hourly budget, across replicas", async () => {
    const prepared = await prepareSession(h);
    const budget = DEFAULT_ABUSE_LIMITS.applyPerSessionPerHour;
    expect((await apply(h, prepared)).body.data.status).toBe("completed");
    for (let i = 1; i < budget; i++) {
      const res = await callOn(i, "POST", "/api/v1/checkout/apply", {
        auth: prepared.auth,
        body: { session_id: prepared.sessionId, transaction_id: prepared.transactionId, otp: "111111" },
      });
      expect(res.status).toBe(200);
    }
    const refused = await callOn(budget, "POST", "/api/v1/checkout/apply", {
      auth: prepared.auth,
      body: { session_id: prepared.sessionId, transaction_id: prepared.transactionId, otp: "111111" },
    });
    expectRateLimited(refused, "apply_session");
  });
});

describe("admin sign-in per client IP", () => {
  const ADMIN_TOKEN = "admin-token-for-rate-limit-tests";

  /** A gateway listening on a real socket (the client IP comes from the TCP peer). */
  async function listening(trustedProxyIps: string[]) {
    const app = secondReplica(
      { trustedProxyIps },
      { admin: { adminToken: ADMIN_TOKEN, telegramIds: [4242], sessionTtlS: 3600 } },
    );
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
    });
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }

  async function signIn(url: string, token: string, headers: Record<string, string> = {}) {
    const res = await fetch(`${url}/api/v1/admin/session`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ token }),
    });
    return { status: res.status, body: (await res.json()) as Json, headers: res.headers };
  }

  const randomIp = () => `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;

  it("wrong tokens from one IP are refused after the budget, even the right one; other IPs are not; X-Forwarded-For changes nothing", async () => {
    const a = await listening(["127.0.0.1"]);
    const b = await listening(["127.0.0.1"]);
    try {
      const attacker = { "x-obuna-client-ip": randomIp() };
      const budget = DEFAULT_ABUSE_LIMITS.adminSignInPerIpPer15Min;
      for (let i = 0; i < budget; i++) {
        const res = await signIn(i % 2 ? a.url : b.url, `wrong-${i}`, attacker);
        expect(res.status).toBe(401);
      }
      const refused = await signIn(a.url, ADMIN_TOKEN, attacker);
      expect(refused.status).toBe(429);
      expect(refused.body.error.code).toBe("RATE_LIMITED");
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(Number(refused.headers.get("retry-after"))).toBeLessThanOrEqual(15 * 60);
      // Telegram sign-in counts against the same IP.
      const tg = await fetch(`${b.url}/api/v1/admin/session/telegram`, {
        method: "POST",
        headers: { authorization: `tma ${"garbage"}`, ...attacker },
      });
      expect(tg.status).toBe(429);
      // Spoofing X-Forwarded-For does not give the attacker a fresh budget.
      expect((await signIn(b.url, "wrong", { ...attacker, "x-forwarded-for": randomIp() })).status).toBe(429);
      // Another client of the proxy signs in normally.
      expect((await signIn(a.url, ADMIN_TOKEN, { "x-obuna-client-ip": randomIp() })).status).toBe(200);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("the client-IP header is believed only from TRUSTED_PROXY_IPS; successful sign-ins are given back", async () => {
    const untrusted = await listening([]);
    try {
      // Not trusted: the header is ignored, so every request is the TCP peer 127.0.0.1 and rotating
      // the header does not escape the budget.
      const budget = DEFAULT_ABUSE_LIMITS.adminSignInPerIpPer15Min;
      let refused = 0;
      for (let i = 0; i <= budget; i++) {
        const res = await signIn(untrusted.url, `wrong-${i}`, { "x-obuna-client-ip": randomIp() });
        if (res.status === 429) refused++;
      }
      expect(refused).toBeGreaterThan(0);
    } finally {
      await untrusted.close();
    }
    const trusted = await listening(["127.0.0.1"]);
    try {
      const admin = { "x-obuna-client-ip": randomIp() };
      for (let i = 0; i < DEFAULT_ABUSE_LIMITS.adminSignInPerIpPer15Min + 5; i++) {
        expect((await signIn(trusted.url, ADMIN_TOKEN, admin)).status).toBe(200);
      }
    } finally {
      await trusted.close();
    }
  });
});
