import { dueRenewalsQuery, findDueRenewals } from "@obuna/db/queries";
import { renewalAttempts, subscriptions } from "@obuna/db/schema";
import { eq, sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { chargeSubscription } from "../src/core/charge";
import {
  attemptsOf,
  confirmedCharges,
  createSubscriber,
  createWorld,
  DAY,
  db,
  dbHandle,
  HOUR,
  loadSubscription,
  type World,
} from "./harness";

// Each file runs in its own time window far from the others so their subscriptions never meet.
const START = new Date("2031-03-10T09:00:00.000Z");
let world: World;

beforeEach(async () => {
  world = await createWorld(START);
});
afterEach(async () => {
  await world.close();
});

describe("due sweep", () => {
  it("picks exactly the due subscriptions at the lead-time boundaries", async () => {
    const lead = 24 * HOUR;
    const inside = await createSubscriber(world, { endsInMs: lead - 1_000 });
    const atEdge = await createSubscriber(world, { endsInMs: lead });
    const outside = await createSubscriber(world, { endsInMs: lead + 1_000 });
    const overdue = await createSubscriber(world, { endsInMs: -2 * HOUR });
    const autoRenewOff = await createSubscriber(world, { endsInMs: HOUR, autoRenew: false });
    const inactiveCard = await createSubscriber(world, { endsInMs: HOUR, cardActive: false });
    const noCard = await createSubscriber(world, { endsInMs: HOUR, withCard: false });
    const expired = await createSubscriber(world, { endsInMs: HOUR, status: "expired" });
    // Already renewed: the period has a successful attempt (end_date about to move), or the end moved on.
    const renewedNow = await createSubscriber(world, { endsInMs: HOUR });
    await db.insert(renewalAttempts).values({
      subscriptionId: renewedNow.sub.id,
      periodEnd: renewedNow.sub.endDate,
      attemptNumber: 1,
      status: "success",
      amount: 2_900_000,
    });
    const renewedEarlier = await createSubscriber(world, { endsInMs: 29 * DAY });
    const inFlight = await createSubscriber(world, { endsInMs: HOUR });
    await db.insert(renewalAttempts).values({
      subscriptionId: inFlight.sub.id,
      periodEnd: inFlight.sub.endDate,
      attemptNumber: 1,
      status: "unknown",
      amount: 2_900_000,
      externalId: "1",
    });
    const retryLater = await createSubscriber(world, { endsInMs: HOUR, status: "past_due" });
    await db.execute(
      sql`update subscriptions set next_renewal_at = ${new Date(START.getTime() + HOUR).toISOString()}, renewal_attempts = 1 where id = ${retryLater.sub.id}`,
    );
    const retryNow = await createSubscriber(world, { endsInMs: HOUR, status: "past_due" });
    await db.execute(
      sql`update subscriptions set next_renewal_at = ${START.toISOString()}, renewal_attempts = 1 where id = ${retryNow.sub.id}`,
    );
    await db.insert(renewalAttempts).values({
      subscriptionId: retryNow.sub.id,
      periodEnd: retryNow.sub.endDate,
      attemptNumber: 1,
      status: "failed",
      amount: 2_900_000,
      errorCode: "STPIMS-ERR-051",
    });

    const due = await findDueRenewals(db, { now: START, leadMs: lead, limit: 1000 });
    const mine = new Set(
      [
        inside,
        atEdge,
        outside,
        overdue,
        autoRenewOff,
        inactiveCard,
        noCard,
        expired,
        renewedNow,
        renewedEarlier,
        inFlight,
        retryLater,
        retryNow,
      ].map((s) => s.sub.id),
    );
    const picked = due.filter((d) => mine.has(d.subscriptionId));
    expect(picked.map((d) => d.subscriptionId).sort((a, b) => a - b)).toEqual(
      [inside.sub.id, atEdge.sub.id, overdue.sub.id, retryNow.sub.id].sort((a, b) => a - b),
    );
    const byId = new Map(picked.map((d) => [d.subscriptionId, d]));
    expect(byId.get(inside.sub.id)!.nextAttemptNumber).toBe(1);
    expect(byId.get(retryNow.sub.id)!.nextAttemptNumber).toBe(2);
    expect(byId.get(inside.sub.id)!.periodEnd.toISOString()).toBe(inside.sub.endDate.toISOString());
  });

  it("enqueues one deterministic job per due subscription, however often it sweeps", async () => {
    const a = await createSubscriber(world, { endsInMs: 2 * HOUR });
    const b = await createSubscriber(world, { endsInMs: 3 * HOUR });
    await world.renewals.sweep();
    await world.renewals.sweep();
    const jobs = await world.renewals.queue.getJobs(["waiting", "prioritized", "delayed"]);
    const mine = jobs.filter((j) => [a.sub.id, b.sub.id].includes(j.data.subscriptionId));
    expect(mine).toHaveLength(2);
    expect(mine.map((j) => j.id).sort()).toEqual(
      [
        `renewal-${a.sub.id}-${a.sub.endDate.getTime()}-1`,
        `renewal-${b.sub.id}-${b.sub.endDate.getTime()}-1`,
      ].sort(),
    );
  });

  it("the sweep's own query can use the partial due-renewal index (first page and next pages)", async () => {
    const params = { now: START, leadMs: 24 * HOUR, limit: 500 };
    for (const page of [params, { ...params, after: { endDate: START, id: 1 } }]) {
      // The statement findDueRenewals sends, prepared with its parameters and planned as Postgres
      // plans a statement run many times (a generic plan: the parameter values are unknown, so only
      // a literal predicate can match the partial index), as if the table were large.
      const query = dueRenewalsQuery(db, page).toSQL();
      const plan = await dbHandle.client.begin(async (tx) => {
        await tx`set local enable_seqscan = off`;
        await tx`set local plan_cache_mode = force_generic_plan`;
        // The parameter types as Postgres infers them for the statement (`limit $n` alone does not say).
        const { types } = await tx.unsafe(query.sql, query.params as never[]).describe();
        const names = await tx<{ name: string }[]>`select format_type(t, null) as name
          from unnest(${types}::oid[]) with ordinality as u(t, n) order by n`;
        await tx.unsafe(`prepare due_sweep_plan (${names.map((n) => n.name).join(", ")}) as ${query.sql}`);
        // EXECUTE takes its arguments as literals (test values: dates, numbers, booleans).
        const args = query.params
          .map(
            (v, i) =>
              `'${String(v instanceof Date ? v.toISOString() : v).replaceAll("'", "''")}'::${names[i]!.name}`,
          )
          .join(", ");
        try {
          const rows = await tx.unsafe(`explain execute due_sweep_plan(${args})`);
          return rows.map((r) => Object.values(r)[0]).join("\n");
        } finally {
          await tx.unsafe("deallocate due_sweep_plan");
        }
      });
      expect(plan, plan).toContain("subscriptions_due_renewal_idx");
    }
  });
});

describe("one rail renews: a Telegram Stars subscription is never charged by card", () => {
  it("is not swept, and a charge job for it charges nothing, even with a bound card and auto_renew on", async () => {
    const card = await createSubscriber(world, { endsInMs: 2 * HOUR });
    // The same due subscription with a usable card and auto_renew, but Telegram renews it (rail stars).
    const stars = await createSubscriber(world, { endsInMs: 2 * HOUR, card: "humo2" });
    await db
      .update(subscriptions)
      .set({ rail: "stars", starsChargeId: "stxTsweep", autoRenew: true })
      .where(eq(subscriptions.id, stars.sub.id));

    const due = await findDueRenewals(db, { now: START, leadMs: 24 * HOUR, limit: 1000 });
    const dueIds = due.map((d) => d.subscriptionId);
    expect(dueIds).toContain(card.sub.id);
    expect(dueIds).not.toContain(stars.sub.id);
    await world.renewals.sweep();
    const jobs = await world.renewals.queue.getJobs(["waiting", "prioritized", "delayed"]);
    expect(jobs.map((j) => j.data.subscriptionId)).not.toContain(stars.sub.id);

    // A job that reaches the worker anyway (queued before the rail changed, or by hand): nothing charged.
    const outcome = await chargeSubscription(world.renewals.ctx, {
      subscriptionId: stars.sub.id,
      periodEnd: stars.sub.endDate,
    });
    expect(outcome).toMatchObject({ status: "skipped" });
    expect(await attemptsOf(stars.sub.id)).toEqual([]);
    expect(confirmedCharges(world)).toEqual([]);
    const after = await loadSubscription(stars.sub.id);
    expect(after.endDate.toISOString()).toBe(stars.sub.endDate.toISOString());
  });
});
