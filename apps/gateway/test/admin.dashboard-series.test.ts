import { payments, plans, renewalAttempts, subscriptions, users } from "@obuna/db/schema";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { type Harness, type Json, startHarness, testGatewayConfig } from "./harness";

/**
 * The dashboard series against figures computed here, in plain TypeScript over the seeded rows:
 * revenue per Tashkent day, renewal success/failure and dunning recoveries, active subscribers per
 * day and churn over 30/90 days, by rail and plan.
 */

const ADMIN_TOKEN = "gateway-test-admin-token-0123456789";
const DAY = 86_400_000;
const TASHKENT_MS = 5 * 3_600_000;
let h: Harness;
let adminApp: ReturnType<typeof createApp>;

beforeAll(async () => {
  h = await startHarness();
  adminApp = createApp(
    {
      db: h.db.db,
      provider: {} as never,
      notificationsQueue: h.queue,
      redis: h.redis,
      logger: pino({ level: "silent" }),
      clock: () => new Date(),
      config: testGatewayConfig(),
    },
    { admin: { adminToken: ADMIN_TOKEN } },
  );
});
afterAll(async () => {
  await h?.close();
});

const tashkentDay = (t: number) => new Date(t + TASHKENT_MS).toISOString().slice(0, 10);

interface SeedSub {
  id: number;
  userId: number;
  plan: string;
  start: number;
  end: number;
  status: "active" | "past_due" | "canceled" | "expired";
  cancelledAt: number | null;
  graceUntil: number | null;
}

describe("dashboard series", () => {
  it("revenue, renewals, recoveries, active subscribers and churn equal figures computed independently", async () => {
    const now = Date.now();
    const planRows = await h.db.db.select().from(plans);
    const planId = (slug: string) => planRows.find((p) => p.slug === slug)!.id;
    let tg = 7_700_000_000;
    const subs: SeedSub[] = [];
    const pays: Array<{
      sub: SeedSub;
      amount: number;
      status: "success" | "reversed" | "failed";
      at: number;
      kind: "initial" | "renewal";
    }> = [];
    const attempts: Array<{
      sub: SeedSub;
      n: number;
      status: "success" | "failed";
      at: number;
      code: string | null;
      amount: number;
    }> = [];

    // A deterministic spread of subscriptions over the last 120 days.
    const shapes: Array<Omit<SeedSub, "id" | "userId">> = [];
    for (let i = 0; i < 24; i++) {
      const plan = ["monthly", "quarterly", "yearly"][i % 3]!;
      const start = now - (5 + i * 5) * DAY - i * 3_600_000;
      const length = plan === "monthly" ? 30 : plan === "quarterly" ? 90 : 365;
      const end = start + length * DAY + (i % 4) * 7 * DAY;
      const ended = end <= now;
      const status: SeedSub["status"] =
        i % 7 === 3 ? "canceled" : i % 5 === 2 && !ended ? "past_due" : ended ? "expired" : "active";
      shapes.push({
        plan,
        start,
        end,
        status,
        cancelledAt: status === "canceled" ? start + 3 * DAY : null,
        graceUntil: status === "past_due" ? end + 7 * DAY : null,
      });
    }
    for (const shape of shapes) {
      const [user] = await h.db.db
        .insert(users)
        .values({ telegramId: tg++, username: null })
        .returning({ id: users.id });
      const [row] = await h.db.db
        .insert(subscriptions)
        .values({
          userId: user!.id,
          planId: planId(shape.plan),
          status: shape.status,
          startDate: new Date(shape.start),
          endDate: new Date(shape.end),
          cancelledAt: shape.cancelledAt ? new Date(shape.cancelledAt) : null,
          graceUntil: shape.graceUntil ? new Date(shape.graceUntil) : null,
        })
        .returning({ id: subscriptions.id });
      const sub = { ...shape, id: row!.id, userId: user!.id };
      subs.push(sub);
      const price = planRows.find((p) => p.slug === shape.plan)!.price;
      const i = subs.length;
      pays.push({
        sub,
        amount: price,
        status: i % 6 === 0 ? "reversed" : "success",
        at: shape.start,
        kind: "initial",
      });
      if (i % 4 === 1)
        pays.push({ sub, amount: price, status: "failed", at: shape.start + DAY, kind: "renewal" });
      // Renewal attempts inside the window: a decline, then a recovery on the 2nd attempt; a first-try
      // success; a never-sent attempt (NOT_CHARGED) that does not count.
      const t = Math.min(now - 1000, shape.start + 20 * DAY);
      attempts.push({ sub, n: 1, status: "failed", at: t, code: "insufficient_funds", amount: price });
      if (i % 2 === 0) {
        attempts.push({
          sub,
          n: 2,
          status: "success",
          at: t + DAY < now ? t + DAY : t,
          amount: price,
          code: null,
        });
      } else {
        attempts.push({ sub, n: 2, status: "failed", at: t, code: "NOT_CHARGED:network", amount: price });
      }
    }
    let key = 0;
    for (const p of pays) {
      await h.db.db.insert(payments).values({
        userId: p.sub.userId,
        subscriptionId: p.sub.id,
        kind: p.kind,
        status: p.status,
        amount: p.amount,
        idempotencyKey: `seed:${key++}`,
        createdAt: new Date(p.at),
      });
    }
    for (const a of attempts) {
      await h.db.db.insert(renewalAttempts).values({
        subscriptionId: a.sub.id,
        periodEnd: new Date(a.sub.end + a.n),
        attemptNumber: a.n,
        status: a.status,
        amount: a.amount,
        errorCode: a.code,
        resolvedAt: new Date(a.at),
      });
    }

    for (const days of [30, 90] as const) {
      const res = await adminApp.request(`/api/v1/admin/dashboard/series?days=${days}`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      expect(res.status).toBe(200);
      const data = ((await res.json()) as Json).data;
      const at = Date.parse(data.generated_at);
      const today = tashkentDay(at);
      const firstDay = new Date(Date.parse(`${today}T00:00:00Z`) - (days - 1) * DAY)
        .toISOString()
        .slice(0, 10);
      const since = Date.parse(`${firstDay}T00:00:00Z`) - TASHKENT_MS;
      expect(data.dates).toHaveLength(days);
      expect(data.dates[0]).toBe(firstDay);
      expect(data.dates.at(-1)).toBe(today);
      expect(data.rails).toEqual(["atmos"]);

      const sumBy = <T>(items: T[], keyOf: (t: T) => string, add: (acc: Json, t: T) => void) => {
        const map = new Map<string, Json>();
        for (const item of items) {
          const k = keyOf(item);
          const acc = map.get(k) ?? {};
          add(acc, item);
          map.set(k, acc);
        }
        return map;
      };

      // Revenue: successful payments only (reversed and failed drop out).
      const revenue = sumBy(
        pays.filter((p) => p.status === "success" && p.at >= since && p.at <= at),
        (p) => `${tashkentDay(p.at)}|atmos|${p.sub.plan}`,
        (acc, p) => {
          acc.amount = (acc.amount ?? 0) + p.amount;
          acc.count = (acc.count ?? 0) + 1;
        },
      );
      expect(
        Object.fromEntries(
          data.revenue.map((r: Json) => [
            `${r.date}|${r.rail}|${r.plan_slug}`,
            { amount: r.amount, count: r.count },
          ]),
        ),
      ).toEqual(Object.fromEntries(revenue));

      const renewals = sumBy(
        attempts.filter((a) => a.at >= since && a.at <= at && !(a.code ?? "").startsWith("NOT_CHARGED:")),
        (a) => `${tashkentDay(a.at)}|atmos|${a.sub.plan}`,
        (acc, a) => {
          acc.succeeded = (acc.succeeded ?? 0) + (a.status === "success" ? 1 : 0);
          acc.failed = (acc.failed ?? 0) + (a.status === "failed" ? 1 : 0);
          acc.recovered = (acc.recovered ?? 0) + (a.status === "success" && a.n > 1 ? 1 : 0);
          acc.recovered_amount =
            (acc.recovered_amount ?? 0) + (a.status === "success" && a.n > 1 ? a.amount : 0);
        },
      );
      expect(
        Object.fromEntries(
          data.renewals.map((r: Json) => [
            `${r.date}|${r.rail}|${r.plan_slug}`,
            {
              succeeded: r.succeeded,
              failed: r.failed,
              recovered: r.recovered,
              recovered_amount: r.recovered_amount,
            },
          ]),
        ),
      ).toEqual(Object.fromEntries(renewals));

      const accessEnd = (s: SeedSub) =>
        s.status === "canceled"
          ? Math.min(s.end, s.cancelledAt ?? s.end)
          : s.status === "past_due"
            ? Math.max(s.end, s.graceUntil ?? s.end)
            : s.end;
      const activeAt = (s: SeedSub, t: number) => s.start <= t && accessEnd(s) > t;
      const expectedActive: Record<string, number> = {};
      for (const date of data.dates as string[]) {
        const endOfDay = Math.min(at, Date.parse(`${date}T00:00:00Z`) + DAY - TASHKENT_MS);
        for (const s of subs) {
          if (activeAt(s, endOfDay)) {
            const k = `${date}|atmos|${s.plan}`;
            expectedActive[k] = (expectedActive[k] ?? 0) + 1;
          }
        }
      }
      expect(
        Object.fromEntries(data.active.map((r: Json) => [`${r.date}|${r.rail}|${r.plan_slug}`, r.count])),
      ).toEqual(expectedActive);

      const expectedChurn: Record<string, Json> = {};
      for (const w of [30, 90]) {
        for (const s of subs.filter((x) => activeAt(x, at - w * DAY))) {
          const k = `${w}|atmos|${s.plan}`;
          expectedChurn[k] ??= { base: 0, churned: 0 };
          const acc = expectedChurn[k];
          acc.base++;
          if (!activeAt(s, at)) acc.churned++;
        }
      }
      for (const acc of Object.values(expectedChurn)) acc.rate = acc.churned / acc.base;
      expect(
        Object.fromEntries(
          data.churn.map((r: Json) => [
            `${r.window_days}|${r.rail}|${r.plan_slug}`,
            { base: r.base, churned: r.churned, rate: r.rate },
          ]),
        ),
      ).toEqual(expectedChurn);
      // The seed exercises every figure (a test of empty arrays proves nothing).
      expect(data.revenue.length).toBeGreaterThan(0);
      expect(data.renewals.some((r: Json) => r.recovered > 0)).toBe(true);
      expect(data.churn.some((r: Json) => r.churned > 0)).toBe(true);
    }

    const bad = await adminApp.request("/api/v1/admin/dashboard/series?days=7", {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(bad.status).toBe(400);
  });
});
