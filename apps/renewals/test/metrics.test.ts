import { afterEach, describe, expect, it } from "vitest";
import { createWorld, type World } from "./harness";

const METRICS_TOKEN = "renewals-test-metrics-token-0123456789";
let world: World | null = null;

afterEach(async () => {
  await world?.close();
  world = null;
});

async function scrape(w: World, authorization?: string) {
  return w.renewals.app.request("/metrics", authorization ? { headers: { authorization } } : {});
}

describe("GET /metrics (Prometheus, Bearer METRICS_TOKEN)", () => {
  it("answers 401 without the token, with a wrong one, and when METRICS_TOKEN is not set", async () => {
    world = await createWorld(new Date("2032-03-01T00:00:00.000Z"), { env: { METRICS_TOKEN } });
    for (const authorization of [undefined, "Bearer wrong-metrics-token-0123456789", METRICS_TOKEN]) {
      const res = await scrape(world, authorization);
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ success: false, error: { code: "UNAUTHORIZED" } });
    }
    await world.close();

    world = await createWorld(new Date("2032-03-01T00:00:00.000Z"));
    const off = await scrape(world, `Bearer ${METRICS_TOKEN}`);
    expect(off.status).toBe(401);
    expect(await off.text()).toContain("set METRICS_TOKEN");
  });

  it("reports each queue's job counts by state, read from Redis at scrape time", async () => {
    world = await createWorld(new Date("2032-03-01T00:00:00.000Z"), { env: { METRICS_TOKEN } });
    const { queue, notifications } = world.renewals;
    // Not started: nothing is processed, so the counts are what was added.
    await queue.add("renewal.sweep", {}, { delay: 3_600_000 });
    await queue.add("renewal.charge", {}, { priority: 5 });
    await queue.add("renewal.charge", {}, { priority: 5 });
    await notifications.add("reminder", {});

    const res = await scrape(world, `Bearer ${METRICS_TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    expect(text).toContain('renewals_queue_jobs{queue="renewals",state="delayed"} 1');
    // Charge jobs have a priority: BullMQ keeps them under `prioritized`, not `waiting`.
    expect(text).toContain('renewals_queue_jobs{queue="renewals",state="prioritized"} 2');
    expect(text).toContain('renewals_queue_jobs{queue="renewals",state="waiting"} 0');
    expect(text).toContain('renewals_queue_jobs{queue="notifications",state="waiting"} 1');
    for (const state of ["active", "failed", "completed"]) {
      expect(text).toContain(`renewals_queue_jobs{queue="renewals",state="${state}"} 0`);
    }
    expect(text).toContain("renewals_queue_up 1");

    // Counts are live: a second scrape sees a job that was added since.
    await notifications.add("reminder", {});
    expect(await (await scrape(world, `Bearer ${METRICS_TOKEN}`)).text()).toContain(
      'renewals_queue_jobs{queue="notifications",state="waiting"} 2',
    );
  });

  it("counts the jobs this worker finished, by name and outcome", async () => {
    world = await createWorld(new Date("2032-03-01T00:00:00.000Z"), { env: { METRICS_TOKEN } });
    await world.renewals.start({ schedulers: false });
    const failed = new Promise<void>((resolve) => world!.renewals.worker.once("failed", () => resolve()));
    // No processor has this name: the worker fails it at once (UnrecoverableError, no retry).
    await world.renewals.queue.add("renewal.nonsense", {}, { attempts: 1 });
    await failed;
    const text = await (await scrape(world, `Bearer ${METRICS_TOKEN}`)).text();
    expect(text).toContain('renewals_jobs_total{job="renewal.nonsense",outcome="failed"} 1');
    expect(text).toContain('renewals_queue_jobs{queue="renewals",state="failed"} 1');
  });
});
