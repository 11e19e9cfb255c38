import { RENEWAL_JOBS } from "@obuna/contracts/jobs";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createSubscriber, createWorld, HOUR, type World } from "./harness";

// Found by `pnpm chaos` (restart-services): Redis restarted without persistence loses the job
// schedulers, and the running worker never swept, checked or expired anything again.

let world: World | null = null;
afterEach(async () => {
  await world?.close();
  world = null;
});

describe("job schedulers", () => {
  it("a running worker re-creates schedulers that Redis lost", async () => {
    world = await createWorld(new Date());
    const { renewals } = world;
    await renewals.start();
    expect(await renewals.ensureSchedulers()).toBe(false);

    await renewals.queue.obliterate({ force: true }); // what a Redis without its data looks like
    expect(await renewals.queue.getJobScheduler(RENEWAL_JOBS.sweep)).toBeUndefined();

    expect(await renewals.ensureSchedulers()).toBe(true);
    expect(renewals.periodicJobs.length).toBeGreaterThanOrEqual(10);
    for (const { name } of renewals.periodicJobs) {
      expect(await renewals.queue.getJobScheduler(name)).toBeDefined();
    }
    expect(await renewals.ensureSchedulers()).toBe(false);
  });
});

describe("job order", () => {
  it("housekeeping jobs run before a backlog of charges, not after it", async () => {
    world = await createWorld(new Date());
    const { renewals } = world;
    for (let i = 0; i < 30; i++) await createSubscriber(world, { endsInMs: 20 * HOUR });
    expect(await renewals.sweep()).toBe(30);
    // The janitor tick arrives after the backlog, as a scheduler would add it.
    const janitor = await renewals.queue.add(RENEWAL_JOBS.janitor, {});
    await renewals.start({ schedulers: false });
    await vi.waitFor(async () => expect(await janitor.getState()).toBe("completed"), { timeout: 20_000 });
    const startedAt = (await renewals.queue.getJob(janitor.id!))!.processedOn!;
    const charges = await renewals.queue.getJobs(["completed", "active", "prioritized", "wait", "failed"]);
    const chargesStartedBefore = charges.filter(
      (j) => j.name === RENEWAL_JOBS.charge && j.processedOn !== undefined && j.processedOn < startedAt,
    );
    // At most what was already running when it arrived (the worker's concurrency is 4), never the backlog.
    expect(chargesStartedBefore.length).toBeLessThanOrEqual(4);
    expect(charges.filter((j) => j.name === RENEWAL_JOBS.charge)).toHaveLength(30);
  });
});
