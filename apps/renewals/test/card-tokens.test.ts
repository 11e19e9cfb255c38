// A card removed or parked for over a day has its token erased: removed at ATMOS (the sandbox, over
// HTTP), then dropped here with an audit row. Fresh retirements, live cards and an unreachable ATMOS
// leave the token where it is.
import { isAtmosError } from "@obuna/atmos";
import { auditLog, boundCards } from "@obuna/db/schema";
import { eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { eraseRetiredCardTokens } from "../src/core/card-tokens";
import { runMaintenance } from "../src/core/maintenance";
import { bindSandboxCard, createSubscriber, createWorld, db, HOUR, type World } from "./harness";

const START = new Date("2031-10-01T04:00:00.000Z");
let world: World;
beforeEach(async () => {
  world = await createWorld(START);
});
afterEach(async () => {
  await world.close();
});

async function card(id: number) {
  const [row] = await db.select().from(boundCards).where(eq(boundCards.id, id));
  return row!;
}

/** Retires a subscriber's card `agoMs` before the world's clock, as parking or a removal does. */
async function retire(cardId: number, agoMs: number) {
  const at = new Date(world.clock.now().getTime() - agoMs);
  await db.update(boundCards).set({ isActive: false, removedAt: at }).where(eq(boundCards.id, cardId));
}

describe("erasure of retired card tokens", () => {
  it("removes a card parked for over a day at ATMOS and drops its token, with an audit row", async () => {
    const { cardId } = await createSubscriber(world, { endsInMs: 20 * 24 * HOUR, card: "humo1" });
    await retire(cardId!, 25 * HOUR);
    const { token } = await bindSandboxCard(world, "humo1");

    expect(await runMaintenance(world.renewals.ctx)).toMatchObject({ cardTokensErased: 1 });
    expect(await card(cardId!)).toMatchObject({ cardToken: null, isActive: false });
    const [audit] = await db
      .select()
      .from(auditLog)
      .where(eq(auditLog.entityId, String(cardId)));
    expect(audit).toMatchObject({ actor: "renewals", action: "card.token_erased", entityType: "bound_card" });
    // ATMOS no longer holds the binding.
    const again = await world.atmos
      .removeCard({ cardId: (await card(cardId!)).cardId, cardToken: token })
      .catch((error: unknown) => error);
    expect(isAtmosError(again) && again.kind).toBe("card_not_found");
    // Nothing left to do on the next run.
    expect(await eraseRetiredCardTokens(world.renewals.ctx)).toEqual({ erased: 0, deferred: 0 });
  });

  it("leaves live cards and cards retired less than a day ago alone", async () => {
    const live = await createSubscriber(world, { endsInMs: 20 * 24 * HOUR, card: "humo1" });
    const fresh = await createSubscriber(world, { endsInMs: 20 * 24 * HOUR, card: "uzcard1" });
    await retire(fresh.cardId!, 23 * HOUR);
    expect(await eraseRetiredCardTokens(world.renewals.ctx)).toEqual({ erased: 0, deferred: 0 });
    expect((await card(live.cardId!)).cardToken).not.toBeNull();
    expect((await card(fresh.cardId!)).cardToken).not.toBeNull();
  });

  it("keeps the token while ATMOS does not answer, and erases it once it does", async () => {
    const { cardId } = await createSubscriber(world, { endsInMs: 20 * 24 * HOUR, card: "humo1" });
    await retire(cardId!, 48 * HOUR);
    world.sandbox.configure({ errorRate: 1 });
    expect(await eraseRetiredCardTokens(world.renewals.ctx)).toEqual({ erased: 0, deferred: 1 });
    expect((await card(cardId!)).cardToken).not.toBeNull();
    world.sandbox.configure({ errorRate: 0 });
    expect(await eraseRetiredCardTokens(world.renewals.ctx)).toEqual({ erased: 1, deferred: 0 });
    expect((await card(cardId!)).cardToken).toBeNull();
  });
});
