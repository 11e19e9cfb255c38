/** Fiscal receipts of renewal charges: the token charge is the fiscal apply; the link lands on the payment. */
import { plans } from "@obuna/db/schema";
import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { chargeSubscription } from "../src/core/charge";
import { runJanitor } from "../src/core/janitor";
import { attemptsOf, createSubscriber, createWorld, db, HOUR, paymentsOf, type World } from "./harness";

const START = new Date("2031-10-01T08:00:00.000Z");
const MIN = 60_000;
const IKPU = "10305008002000000";
const PACKAGE = "1501181";
let world: World | undefined;

beforeAll(async () => {
  await db
    .update(plans)
    .set({ ikpuCode: IKPU, packageCode: PACKAGE, vatPercent: 0 })
    .where(eq(plans.slug, "quarterly"));
});
afterAll(async () => {
  await db
    .update(plans)
    .set({ ikpuCode: "00000000000000000", packageCode: "0000000", vatPercent: 12 })
    .where(eq(plans.slug, "quarterly"));
});
afterEach(async () => {
  await world?.close();
  world = undefined;
});

const charge = (w: World, sub: { id: number; endDate: Date }) =>
  chargeSubscription(w.renewals.ctx, { subscriptionId: sub.id, periodEnd: sub.endDate });

describe("renewal receipts", () => {
  it("the renewal charge sends the plan's receipt line and stores the receipt link", async () => {
    world = await createWorld(START);
    const { sub, plan } = await createSubscriber(world, { endsInMs: 10 * HOUR, plan: "quarterly" });
    expect(await charge(world, sub)).toMatchObject({ status: "success" });
    const [entry] = world.sandbox.ledger().filter((t) => t.state === "confirmed");
    expect(world.sandbox.requests().some((r) => r.path === "/merchant/pay/confirm-with-ofd-list")).toBe(true);
    expect(entry!.ofdItems).toEqual([
      {
        ofdCode: IKPU,
        name: `Obuna Premium: ${plan.nameUz}`,
        amount: plan.price,
        quantity: 1,
        packageCode: PACKAGE,
        vatPercent: 0,
      },
    ]);
    const [payment] = await paymentsOf(sub.id);
    expect(payment).toMatchObject({ status: "success", receiptUrl: entry!.ofdUrl });
    expect(payment!.receiptUrl).toMatch(/^https:\/\//);
  });

  it("a lost apply answer resolved by the janitor stores the receipt get gives", async () => {
    world = await createWorld(START);
    const w = world;
    const { sub } = await createSubscriber(w, { endsInMs: 10 * HOUR });
    w.sandbox.configure({ loseNextApply: 1 });
    expect(await charge(w, sub)).toMatchObject({ status: "unknown" });
    w.clock.advance(5 * MIN);
    expect(await runJanitor(w.renewals.ctx)).toMatchObject({ checked: 1, success: 1 });
    const [payment] = await paymentsOf(sub.id);
    const [entry] = w.sandbox.ledger().filter((t) => t.state === "confirmed");
    expect(payment).toMatchObject({ status: "success", receiptUrl: entry!.ofdUrl });
    expect(payment!.receiptUrl).toMatch(/^https:\/\//);
  });

  it("a renewal charged without a receipt is recorded as such (receipt link null)", async () => {
    world = await createWorld(START);
    const { sub } = await createSubscriber(world, { endsInMs: 10 * HOUR });
    world.sandbox.configure({ receiptlessNext: 1 });
    expect(await charge(world, sub)).toMatchObject({ status: "success" });
    expect((await attemptsOf(sub.id)).map((a) => a.status)).toEqual(["success"]);
    const [payment] = await paymentsOf(sub.id);
    expect(payment).toMatchObject({ status: "success", receiptUrl: null });
  });
});
