import { eq } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { createDb } from "../src/client";
import { decryptCardToken, encryptCardToken, parseCardTokenKey } from "../src/crypto";
import {
  extendedEndDate,
  getLiveSubscription,
  getPlanBySlug,
  listActivePlans,
  revealCardToken,
  saveBoundCard,
  setUserRole,
  upsertTelegramUser,
} from "../src/queries/index";
import { boundCards, subscriptions, users } from "../src/schema/index";
import { testDatabaseUrl } from "../src/testing/index";

const handle = createDb(testDatabaseUrl("db"), { max: 4 });
const { db } = handle;
const key = parseCardTokenKey("0".repeat(64));
let nextTelegramId = 7_000_000_000 + Math.floor(Math.random() * 1_000_000);

afterAll(() => handle.close());

describe("query helpers on a real database", () => {
  it("upserts a Telegram user without losing the role", async () => {
    const telegramId = nextTelegramId++;
    const first = await upsertTelegramUser(db, { telegramId, username: "ali", languageCode: "uz" });
    await setUserRole(db, first.id, "premium");
    const again = await upsertTelegramUser(db, { telegramId, firstName: "Ali" });
    expect(again.id).toBe(first.id);
    expect(again.role).toBe("premium");
    expect(again.username).toBe("ali");
    expect(again.firstName).toBe("Ali");
  });

  it("never demotes an admin", async () => {
    const user = await upsertTelegramUser(db, { telegramId: nextTelegramId++ });
    await db.update(users).set({ role: "admin" }).where(eq(users.id, user.id));
    await setUserRole(db, user.id, "user");
    const [row] = await db.select().from(users).where(eq(users.id, user.id));
    expect(row!.role).toBe("admin");
  });

  it("lists the active plans in order", async () => {
    const plans = await listActivePlans(db);
    expect(plans.map((p) => p.slug)).toEqual(["monthly", "quarterly", "yearly"]);
    expect((await getPlanBySlug(db, "monthly"))!.durationDays).toBe(30);
    expect(await getPlanBySlug(db, "weekly")).toBeNull();
  });

  it("derives is_active from status, and allows one live subscription per user", async () => {
    const user = await upsertTelegramUser(db, { telegramId: nextTelegramId++ });
    const plan = (await getPlanBySlug(db, "monthly"))!;
    const now = new Date();
    const base = {
      userId: user.id,
      planId: plan.id,
      startDate: now,
      endDate: new Date(now.getTime() + 86_400_000),
    };
    const [sub] = await db.insert(subscriptions).values(base).returning();
    expect(sub!.isActive).toBe(true);
    await expect(db.insert(subscriptions).values(base)).rejects.toThrow();
    await db.update(subscriptions).set({ status: "expired" }).where(eq(subscriptions.id, sub!.id));
    expect(await getLiveSubscription(db, user.id)).toBeNull();
    const [second] = await db.insert(subscriptions).values(base).returning();
    expect(second!.isActive).toBe(true);
  });

  it("stores card tokens encrypted and gives them back", async () => {
    const user = await upsertTelegramUser(db, { telegramId: nextTelegramId++ });
    const token = "A1B2C3D4E5F60718293A4B5C6D7E8F90";
    const card = await saveBoundCard(
      db,
      {
        userId: user.id,
        cardToken: token,
        cardId: 1579076,
        panMasked: "986009******1840",
        expiry: "2802",
        cardType: "humo",
      },
      key,
    );
    const [row] = await db.select().from(boundCards).where(eq(boundCards.id, card.id));
    expect(row!.cardToken).not.toContain(token);
    expect(revealCardToken(row!, key)).toBe(token);
    // Binding the same ATMOS card again updates the row rather than adding one.
    const again = await saveBoundCard(
      db,
      {
        userId: user.id,
        cardToken: token,
        cardId: 1579076,
        panMasked: "986009******1840",
        expiry: "2802",
        cardType: "humo",
      },
      key,
    );
    expect(again.id).toBe(card.id);
  });
});

describe("card token encryption", () => {
  it("round-trips and refuses a tampered value or a wrong key", () => {
    const stored = encryptCardToken("secret-token", key);
    expect(decryptCardToken(stored, key)).toBe("secret-token");
    const [v, iv, tag, ct] = stored.split(".");
    const tampered = [v, iv, tag, `${ct!.slice(0, -2)}AA`].join(".");
    expect(() => decryptCardToken(tampered, key)).toThrow();
    expect(() => decryptCardToken(stored, parseCardTokenKey("1".repeat(64)))).toThrow();
    expect(() => parseCardTokenKey("short")).toThrow(/32 bytes/);
  });
});

describe("extendedEndDate", () => {
  const day = 86_400_000;
  const now = new Date("2026-01-01T00:00:00Z");
  it("starts now for a user with no time left", () => {
    expect(extendedEndDate(null, now, 30).end.getTime()).toBe(now.getTime() + 30 * day);
    expect(extendedEndDate(new Date(now.getTime() - day), now, 30).start).toEqual(now);
  });
  it("adds the period after the time a user still has", () => {
    const end = new Date(now.getTime() + 5 * day);
    expect(extendedEndDate(end, now, 30).end.getTime()).toBe(now.getTime() + 35 * day);
  });
});
