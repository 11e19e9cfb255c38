import { RENEWAL_JOBS } from "@obuna/contracts/jobs";
import { afterEach, describe, expect, it } from "vitest";
import { createWorld, type World } from "./harness";

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
    for (const id of [RENEWAL_JOBS.sweep, RENEWAL_JOBS.janitor, RENEWAL_JOBS.maintenance]) {
      expect(await renewals.queue.getJobScheduler(id)).toBeDefined();
    }
    expect(await renewals.ensureSchedulers()).toBe(false);
  });
});
