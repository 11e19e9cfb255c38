// One language per user: the language chosen in the bot is stored on the user (PUT .../language with
// the bot's scoped internal token, or create-link's `language`) and wins over Telegram's
// language_code in the session view, the account API and plan names. And "next charge" is when the
// renewal will be tried (RENEWAL_LEAD_HOURS before end_date, or the planned retry), not end_date.
import { subscriptions, users } from "@obuna/db/schema";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  apply,
  call,
  type Harness,
  internalAuth,
  prepareSession,
  randomTelegramId,
  startHarness,
  tma,
} from "./harness";

const HOUR = 3_600_000;
const LEAD_HOURS = 36;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ renewalLeadMs: LEAD_HOURS * HOUR });
});
afterAll(async () => {
  await h?.close();
});

async function storedLanguage(telegramId: number) {
  const [user] = await h.db.db.select().from(users).where(eq(users.telegramId, telegramId));
  return user?.language ?? null;
}

describe("the user's chosen language", () => {
  it("the bot stores the choice on the user (created on first contact); it wins over Telegram's language_code", async () => {
    const telegramId = randomTelegramId();
    const put = await call(h, "PUT", `/api/v1/user/${telegramId}/language`, {
      auth: internalAuth,
      body: { language: "ru", first_name: "Aziz" },
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body.data).toEqual({ language: "ru" });
    expect(await storedLanguage(telegramId)).toBe("ru");

    // Telegram says "en"; the user chose Russian in the bot.
    const link = await call(h, "POST", "/api/v1/payment/create-link", {
      auth: internalAuth,
      body: { telegram_id: telegramId, plan_slug: "monthly", language_code: "en" },
    });
    expect(link.body.data.plan).toMatchObject({
      name: "1 месяц",
      names: { uz: "1 Oylik", ru: "1 месяц", en: "1 Month" },
    });
    const session = await call(h, "GET", `/api/v1/payment/session/${link.body.data.session_id}`, {
      auth: tma(telegramId),
    });
    expect(session.body.data.language).toBe("ru");
    expect(session.body.data.plan.name).toBe("1 месяц");

    const account = await call(h, "GET", `/api/v1/user/${telegramId}/subscription`, {
      auth: tma(telegramId),
    });
    expect(account.body.data).toEqual({ subscription: null, language: "ru" });
  });

  it("create-link's `language` records the choice too; without it the stored choice is kept", async () => {
    const telegramId = randomTelegramId();
    await call(h, "POST", "/api/v1/payment/create-link", {
      auth: internalAuth,
      body: { telegram_id: telegramId, plan_slug: "monthly", language_code: "uz", language: "en" },
    });
    expect(await storedLanguage(telegramId)).toBe("en");
    const again = await call(h, "POST", "/api/v1/payment/create-link", {
      auth: internalAuth,
      body: { telegram_id: telegramId, plan_slug: "monthly", language_code: "ru" },
    });
    expect(again.body.data.plan.name).toBe("1 Month");
    expect(await storedLanguage(telegramId)).toBe("en");
  });

  it("a Mini App user sets only their own language; a bad value is a 400 that changes nothing", async () => {
    const me = randomTelegramId();
    const other = randomTelegramId();
    const own = await call(h, "PUT", `/api/v1/user/${me}/language`, {
      auth: tma(me),
      body: { language: "en" },
    });
    expect(own.status).toBe(200);
    const foreign = await call(h, "PUT", `/api/v1/user/${other}/language`, {
      auth: tma(me),
      body: { language: "en" },
    });
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.code).toBe("USER_NOT_FOUND");
    expect(await storedLanguage(other)).toBeNull();
    const bad = await call(h, "PUT", `/api/v1/user/${me}/language`, {
      auth: tma(me),
      body: { language: "de" },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("VALIDATION_ERROR");
    expect(await storedLanguage(me)).toBe("en");
    const anonymous = await call(h, "PUT", `/api/v1/user/${me}/language`, { body: { language: "ru" } });
    expect(anonymous.status).toBe(401);
  });
});

describe("next charge", () => {
  it("is RENEWAL_LEAD_HOURS before end_date, the planned retry while past due, and none with auto-renew off", async () => {
    const prepared = await prepareSession(h, { card: "humo1", autoRenew: true });
    const paid = await apply(h, prepared);
    expect(paid.status).toBe(200);
    const subId = paid.body.data.subscription.id as number;
    const read = async () =>
      (await call(h, "GET", `/api/v1/user/${prepared.telegramId}/subscription`, { auth: prepared.auth })).body
        .data.subscription;

    const active = await read();
    const endMs = Date.parse(active.end_date);
    expect(Date.parse(active.next_charge_at)).toBe(endMs - LEAD_HOURS * HOUR);
    expect(active.next_charge.date).toBe(active.next_charge_at);

    // Dunning: the retry is planned two days after end_date.
    const retryAt = new Date(endMs + 48 * HOUR);
    await h.db.db
      .update(subscriptions)
      .set({ status: "past_due", nextRenewalAt: retryAt, graceUntil: new Date(endMs + 7 * 24 * HOUR) })
      .where(eq(subscriptions.id, subId));
    const pastDue = await read();
    expect(pastDue.next_charge_at).toBe(retryAt.toISOString());
    expect(pastDue.next_charge.date).toBe(retryAt.toISOString());

    await h.db.db
      .update(subscriptions)
      .set({ status: "active", nextRenewalAt: null, graceUntil: null })
      .where(eq(subscriptions.id, subId));
    await call(h, "POST", `/api/v1/subscription/${subId}/cancel`, { auth: prepared.auth });
    const off = await read();
    expect(off.next_charge_at).toBeNull();
    expect(off.next_charge).toBeNull();
  });
});
