import type { NotificationJob } from "@obuna/contracts/jobs";
import { eq, inArray, sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { createDb } from "../src/client";
import { decryptCardToken, encryptCardToken, parseCardTokenKey } from "../src/crypto";
import {
  createSessionForTelegramUser,
  extendedEndDate,
  getLiveSubscription,
  getPlanBySlug,
  listActivePlans,
  owedNotifications,
  purgeRelayedNotifications,
  recordNotification,
  relayNotifications,
  revealCardToken,
  saveBoundCard,
  setUserRole,
  upsertTelegramUser,
} from "../src/queries/index";
import { boundCards, notificationOutbox, subscriptions, users } from "../src/schema/index";
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

  it("sets a role, and leaves the row unwritten when the user already has it", async () => {
    const user = await upsertTelegramUser(db, { telegramId: nextTelegramId++ });
    const version = async () => {
      const [row] = (await db.execute(
        sql`select xmin::text as xmin, role from users where id = ${user.id}`,
      )) as unknown as [{ xmin: string; role: string }];
      return row;
    };
    await setUserRole(db, user.id, "premium");
    const premium = await version();
    expect(premium.role).toBe("premium");
    // A renewal sets premium again: no new row version (same xmin), nothing for Postgres to write.
    await setUserRole(db, user.id, "premium");
    expect(await version()).toEqual(premium);
    // A change stamps updated_at with its own time, not the time the prepared query was built (the
    // calls above built it).
    const before = new Date();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await setUserRole(db, user.id, "user");
    expect((await version()).role).toBe("user");
    const [{ updatedAt }] = await db
      .select({ updatedAt: users.updatedAt })
      .from(users)
      .where(eq(users.id, user.id));
    expect(updatedAt.getTime()).toBeGreaterThan(before.getTime());
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
        cardRef: "1579076",
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
        cardRef: "1579076",
        panMasked: "986009******1840",
        expiry: "2802",
        cardType: "humo",
      },
      key,
    );
    expect(again.id).toBe(card.id);
  });
});

describe("create-link's statement", () => {
  it("commits asynchronously for its own transaction only: later writes on the connection wait for their flush", async () => {
    // One connection, so the statement and the checks after it share the session a setting could leak into.
    const single = createDb(testDatabaseUrl("db"), { max: 1 });
    try {
      const now = new Date();
      const created = await createSessionForTelegramUser(single.db, {
        telegramId: nextTelegramId++,
        username: null,
        firstName: "Ali",
        languageCode: "uz",
        planSlug: "monthly",
        expiresAt: new Date(now.getTime() + 30 * 60_000),
        now,
        linkLimit: { max: 20, windowS: 3600 },
      });
      expect(created && "id" in created ? created.plan.slug : null).toBe("monthly");
      const [after] = await single.client<{ synchronous_commit: string }[]>`show synchronous_commit`;
      expect(after!.synchronous_commit).toBe("on");
      const inTransaction = await single.client.begin(
        (tx) => tx<{ synchronous_commit: string }[]>`show synchronous_commit`,
      );
      expect(inTransaction[0]!.synchronous_commit).toBe("on");
    } finally {
      await single.close();
    }
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

describe("notification outbox", () => {
  const job = (userId: number) =>
    ({ kind: "subscription_expired", userId, subscriptionId: 1 }) as const satisfies NotificationJob;

  it("keeps one row per job id, relays only what the queue accepted, and never relays twice", async () => {
    const userId = nextTelegramId++;
    const now = new Date();
    const ids = [
      await recordNotification(db, job(userId), "a", new Date()),
      await recordNotification(db, job(userId), "a", new Date()), // the same notification again: still one row
      await recordNotification(db, job(userId), "b", new Date()),
      await recordNotification(db, job(userId), "c", new Date()),
    ];
    expect(ids[0]).toBe(ids[1]);
    const owedIds = [...new Set(ids)];
    expect(owedIds).toHaveLength(3);

    // The queue takes the first and then refuses (Redis down): one marked, the rest left owed.
    const accepted: string[] = [];
    let calls = 0;
    const partial = await relayNotifications(
      db,
      async (n) => {
        if (++calls > 1) throw new Error("Connection is closed.");
        accepted.push(n.jobId);
      },
      { now, jobIds: owedIds },
    );
    expect(partial).toEqual({ queued: 1, left: 2 });
    // The database is fresh for this suite: exactly these two are owed.
    expect((await owedNotifications(db)).count).toBe(2);

    // The periodic relay leaves rows younger than minAgeMs to their producer…
    const fresh = await relayNotifications(db, async (n) => void accepted.push(n.jobId), {
      now,
      minAgeMs: 60_000,
    });
    expect(fresh.queued).toBe(0);
    // …and hands over the rest once they are old enough, with their payloads intact.
    const payloads: unknown[] = [];
    const later = await relayNotifications(
      db,
      async (n) => {
        if (!owedIds.includes(n.jobId)) return; // rows of other tests in this database
        accepted.push(n.jobId);
        payloads.push(n.payload);
      },
      { now: new Date(now.getTime() + 120_000), minAgeMs: 60_000 },
    );
    expect(later.left).toBe(0);
    expect(accepted.sort()).toEqual([...owedIds].sort());
    expect(payloads).toContainEqual(job(userId));
    // Nothing of these is owed any more.
    const again = await relayNotifications(db, async () => {}, { now, jobIds: owedIds });
    expect(again).toEqual({ queued: 0, left: 0 });
  });

  it("an enqueue that never answers (Redis unreachable) counts as refused after the timeout", async () => {
    const jobId = await recordNotification(db, job(nextTelegramId++), "hang", new Date());
    const result = await relayNotifications(db, () => new Promise(() => {}), {
      now: new Date(),
      jobIds: [jobId],
      enqueueTimeoutMs: 50,
    });
    expect(result).toEqual({ queued: 0, left: 1 });
    expect(await relayNotifications(db, async () => {}, { now: new Date(), jobIds: [jobId] })).toEqual({
      queued: 1,
      left: 0,
    });
  });

  it("two relays at once never hand the same row over twice", async () => {
    const userId = nextTelegramId++;
    const ids = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        recordNotification(db, job(userId), `concurrent-${i}`, new Date()),
      ),
    );
    const handed: string[] = [];
    const slowEnqueue = async (n: { jobId: string }) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      handed.push(n.jobId);
    };
    const now = new Date();
    await Promise.all([
      relayNotifications(db, slowEnqueue, { now, jobIds: ids }),
      relayNotifications(db, slowEnqueue, { now, jobIds: ids }),
    ]);
    expect(handed.sort()).toEqual([...ids].sort());
  });

  it("purges relayed rows older than the cut-off, never owed ones", async () => {
    const userId = nextTelegramId++;
    const longAgo = new Date(Date.now() - 40 * 86_400_000);
    const relayed = await recordNotification(db, job(userId), "purge-relayed", longAgo);
    const owed = await recordNotification(db, job(userId), "purge-owed", longAgo);
    await relayNotifications(db, async () => {}, { now: longAgo, jobIds: [relayed] });
    const cutOff = new Date(Date.now() - 30 * 86_400_000);
    expect(await purgeRelayedNotifications(db, cutOff, 1_000)).toBeGreaterThanOrEqual(1);
    const left = await db
      .select({ jobId: notificationOutbox.jobId })
      .from(notificationOutbox)
      .where(inArray(notificationOutbox.jobId, [relayed, owed]));
    expect(left.map((r) => r.jobId)).toEqual([owed]);
  });
});
