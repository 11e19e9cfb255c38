// A card removed or parked for over a day has its token erased: removed at ATMOS (the sandbox, over
// HTTP), then dropped here with an audit row. Fresh retirements, live cards and an unreachable ATMOS
// leave the token where it is.
import { isAtmosError } from "@obuna/atmos";
import type { SandboxCardName } from "@obuna/atmos/sandbox";
import { RENEWAL_JOBS } from "@obuna/contracts/jobs";
import { encryptCardToken } from "@obuna/db";
import { auditLog, boundCards, paymentSessions } from "@obuna/db/schema";
import { and, eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { eraseRetiredCardTokens } from "../src/core/card-tokens";
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
  await db
    .update(boundCards)
    .set({ status: "removed", isActive: false, removedAt: at })
    .where(eq(boundCards.id, cardId));
}

describe("erasure of retired card tokens", () => {
  it("removes a card parked for over a day at ATMOS and drops its token, with an audit row", async () => {
    const { cardId } = await createSubscriber(world, { endsInMs: 20 * 24 * HOUR, card: "humo1" });
    await retire(cardId!, 25 * HOUR);
    const { token } = await bindSandboxCard(world, "humo1");

    expect(await world.renewals.runPeriodicJob(RENEWAL_JOBS.cardTokenErasure)).toMatchObject({ erased: 1 });
    expect(await card(cardId!)).toMatchObject({ cardToken: null, isActive: false });
    const [audit] = await db
      .select()
      .from(auditLog)
      .where(eq(auditLog.entityId, String(cardId)));
    expect(audit).toMatchObject({ actor: "renewals", action: "card.token_erased", entityType: "bound_card" });
    // ATMOS no longer holds the binding.
    const again = await world.atmos
      .removeCard({ cardId: Number((await card(cardId!)).cardRef), cardToken: token })
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

async function atmosHolds(atmosCardId: number) {
  return (await world.atmos.listCards()).some((card) => card.cardId === atmosCardId);
}

async function auditFor(action: string, entityId: string) {
  return db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.action, action), eq(auditLog.entityId, entityId)));
}

describe("shared ATMOS bindings (one card id per merchant, whoever typed the card)", () => {
  it("a retired card whose ATMOS card another live row uses: token erased here, the binding stays at ATMOS", async () => {
    const live = await createSubscriber(world, { endsInMs: 20 * 24 * HOUR, card: "humo1" });
    const retired = await createSubscriber(world, { endsInMs: 20 * 24 * HOUR, card: "humo1" });
    const atmosCardId = Number((await card(live.cardId!)).cardRef);
    expect(Number((await card(retired.cardId!)).cardRef)).toBe(atmosCardId);
    await retire(retired.cardId!, 25 * HOUR);

    expect(await eraseRetiredCardTokens(world.renewals.ctx)).toEqual({ erased: 1, deferred: 0 });
    expect((await card(retired.cardId!)).cardToken).toBeNull();
    expect(await atmosHolds(atmosCardId)).toBe(true);
    expect((await card(live.cardId!)).cardToken).not.toBeNull();
    const [audit] = await auditFor("card.token_erased", String(retired.cardId));
    expect(audit!.details).toMatchObject({ atmos: "kept: shared with a live card row" });
  });
});

describe("erasure of unused card bindings held by payment sessions", () => {
  /** A session of a new user holding a pending binding of `name`, last changed `agoMs` ago. */
  async function sessionWithBinding(
    name: SandboxCardName,
    status: "failed" | "expired" | "completed" | "processing" | "pending",
    agoMs: number,
  ) {
    const { user, plan } = await createSubscriber(world, { endsInMs: 20 * 24 * HOUR, withCard: false });
    const bound = await bindSandboxCard(world, name);
    const at = new Date(world.clock.now().getTime() - agoMs);
    const [row] = await db
      .insert(paymentSessions)
      .values({
        userId: user.id,
        planId: plan.id,
        status,
        amount: plan.price,
        autoRenew: true,
        cardMasked: bound.panMasked,
        bindCardRef: String(bound.cardId),
        bindCardToken: encryptCardToken(bound.token, world.renewals.ctx.cardTokenKey),
        bindCardMasked: bound.panMasked,
        bindCardExpiry: bound.expiry,
        bindCardType: "humo",
        expiresAt: new Date(at.getTime() + 30 * 60_000),
        createdAt: at,
        updatedAt: at,
      })
      .returning();
    return { session: row!, atmosCardId: bound.cardId };
  }

  async function sessionToken(id: string) {
    const [row] = await db.select().from(paymentSessions).where(eq(paymentSessions.id, id));
    return row!.bindCardToken;
  }

  it("a day after the session ended: removed at ATMOS and the token dropped, with an audit row", async () => {
    const { session, atmosCardId } = await sessionWithBinding("uzcard1", "failed", 25 * HOUR);
    expect(await atmosHolds(atmosCardId)).toBe(true);

    expect(await world.renewals.runPeriodicJob(RENEWAL_JOBS.cardTokenErasure)).toMatchObject({ erased: 1 });
    expect(await sessionToken(session.id)).toBeNull();
    expect(await atmosHolds(atmosCardId)).toBe(false);
    const [audit] = await auditFor("card.binding_erased", session.id);
    expect(audit).toMatchObject({ actor: "renewals", entityType: "payment_session" });
    expect(audit!.details).toMatchObject({ atmos: "removed", atmosCardId: String(atmosCardId) });
    expect(await eraseRetiredCardTokens(world.renewals.ctx)).toEqual({ erased: 0, deferred: 0 });
  });

  it("another user's live card uses the same ATMOS card (user B typed user A's card): only the session's token is dropped", async () => {
    const victim = await createSubscriber(world, { endsInMs: 20 * 24 * HOUR, card: "humo2" });
    const { session, atmosCardId } = await sessionWithBinding("humo2", "expired", 25 * HOUR);
    expect(Number((await card(victim.cardId!)).cardRef)).toBe(atmosCardId);

    expect(await eraseRetiredCardTokens(world.renewals.ctx)).toEqual({ erased: 1, deferred: 0 });
    expect(await sessionToken(session.id)).toBeNull();
    expect(await atmosHolds(atmosCardId)).toBe(true);
    expect((await card(victim.cardId!)).cardToken).not.toBeNull();
    const [audit] = await auditFor("card.binding_erased", session.id);
    expect(audit!.details).toMatchObject({ atmos: "kept: shared with a live card row" });
  });

  it("leaves fresh sessions, sessions still processing, and an unreachable ATMOS waits", async () => {
    const fresh = await sessionWithBinding("humo3", "failed", 23 * HOUR);
    const processing = await sessionWithBinding("humo3", "processing", 48 * HOUR);
    const old = await sessionWithBinding("humo4", "completed", 48 * HOUR);
    world.sandbox.configure({ errorRate: 1 });
    expect(await eraseRetiredCardTokens(world.renewals.ctx)).toEqual({ erased: 0, deferred: 1 });
    expect(await sessionToken(old.session.id)).not.toBeNull();
    world.sandbox.configure({ errorRate: 0 });
    expect(await eraseRetiredCardTokens(world.renewals.ctx)).toEqual({ erased: 1, deferred: 0 });
    expect(await sessionToken(old.session.id)).toBeNull();
    expect(await sessionToken(fresh.session.id)).not.toBeNull();
    expect(await sessionToken(processing.session.id)).not.toBeNull();
    expect(await atmosHolds(fresh.atmosCardId)).toBe(true);
  });
});
