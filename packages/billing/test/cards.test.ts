// The card state machine against the real billing database and the ATMOS sandbox over HTTP:
// every transition, every refused one, and the removal race (the diagram atop src/cards.ts).
import {
  auditLog,
  notificationOutbox,
  paymentSessions,
  premiumEvents,
  subscriptions,
} from "@obuna/db/schema";
import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  activateSessionCard,
  deactivateCard,
  eraseRetiredCardToken,
  eraseStaleSessionBinding,
  reactivateCard,
  removeCard,
} from "../src/cards";
import {
  atmosClientFor,
  bindAtSandbox,
  cardRow,
  cardTokenKey,
  createUser,
  DAY,
  db,
  handle,
  insertCard,
  insertSessionWithBinding,
  insertSubscription,
  isHeldAtSandbox,
  NOW,
  providerFor,
  startWorld,
  type World,
} from "./support";

let world: World;
beforeEach(async () => {
  world = await startWorld();
});
afterEach(async () => {
  await world.close();
});
afterAll(() => handle.close());

const auditOf = (entityId: string | number) =>
  db
    .select()
    .from(auditLog)
    .where(eq(auditLog.entityId, String(entityId)));

/** What a payment success does with the session's card, in its own transaction (session row locked first). */
function activate(sessionId: string, chargedCardRef: string | null, now = NOW) {
  return db.transaction(async (tx) => {
    const [session] = await tx
      .select()
      .from(paymentSessions)
      .where(eq(paymentSessions.id, sessionId))
      .for("update");
    return activateSessionCard(
      tx,
      { cardTokenKey },
      { session: session!, externalId: "901", chargedCardRef, actor: "gateway", now },
    );
  });
}

describe("activate: a payment's success makes the session's binding the user's card", () => {
  it("activates the bound card when the provider charged exactly that card", async () => {
    const bound = await bindAtSandbox(world, "humo1");
    const user = await createUser();
    const session = await insertSessionWithBinding(user.id, bound);

    const outcome = await activate(session.id, String(bound.cardId));
    expect(outcome.status).toBe("activated");
    const card = await cardRow((outcome as { boundCardId: number }).boundCardId);
    expect(card).toMatchObject({
      userId: user.id,
      cardRef: String(bound.cardId),
      status: "active",
      isActive: true,
      removedAt: null,
      cardToken: session.bindCardToken,
      lastUsedAt: NOW,
    });
  });

  it("makes a removed or erased card of the same user active again, with the new binding's token", async () => {
    const bound = await bindAtSandbox(world, "humo1");
    const user = await createUser();
    const erased = await insertCard(user.id, bound, { status: "erased" });
    const session = await insertSessionWithBinding(user.id, bound);

    const outcome = await activate(session.id, bound.panMasked);
    expect(outcome).toEqual({ status: "activated", boundCardId: erased.id });
    expect(await cardRow(erased.id)).toMatchObject({
      status: "active",
      isActive: true,
      removedAt: null,
      cardToken: session.bindCardToken,
    });
  });

  it("refuses, audited, when the provider charged another card; no card row for anyone", async () => {
    const bound = await bindAtSandbox(world, "humo1");
    const user = await createUser();
    const session = await insertSessionWithBinding(user.id, bound);

    const outcome = await activate(session.id, String(bound.cardId + 1));
    expect(outcome).toMatchObject({
      status: "refused",
      reason: "charged_another_card",
      chargedCard: String(bound.cardId + 1),
    });
    expect(await db.select().from(auditLog).where(eq(auditLog.action, "card.binding_refused"))).toEqual([
      expect.objectContaining({ entityType: "payment_session", entityId: session.id, actor: "gateway" }),
    ]);
    expect(await handle.client`select count(*)::int as n from bound_cards`).toEqual([{ n: 0 }]);
  });

  it("does nothing without a binding (auto-renew off)", async () => {
    const bound = await bindAtSandbox(world, "humo1");
    const user = await createUser();
    const session = await insertSessionWithBinding(user.id, bound);
    await db.update(paymentSessions).set({ autoRenew: false }).where(eq(paymentSessions.id, session.id));
    expect(await activate(session.id, String(bound.cardId))).toEqual({ status: "no_binding" });
  });
});

describe("deactivate / reactivate (admin)", () => {
  it("active → deactivated with an audit row and the user's message; deactivated → active", async () => {
    const bound = await bindAtSandbox(world, "humo1");
    const user = await createUser();
    const card = await insertCard(user.id, bound);
    const input = {
      cardId: card.id,
      actor: "admin:1",
      reason: "fraud check",
      details: { via: "test" },
      now: NOW,
    };

    const off = await db.transaction((tx) =>
      deactivateCard(tx, { cardTokenKey }, { ...input, notifyUser: true }),
    );
    expect(off).toMatchObject({ status: "changed", card: { status: "deactivated", isActive: false } });
    const [owed] = await db.select().from(notificationOutbox);
    expect(owed).toMatchObject({
      kind: "card_deactivated",
      jobId: (off as { notificationId: string }).notificationId,
    });

    const on = await db.transaction((tx) => reactivateCard(tx, { cardTokenKey }, input));
    expect(on).toMatchObject({
      status: "changed",
      card: { status: "active", isActive: true },
      notificationId: null,
    });
    expect((await auditOf(card.id)).map((row) => [row.action, row.actor, row.details])).toEqual([
      ["card.deactivated", "admin:1", { via: "test", panMasked: bound.panMasked, userId: user.id }],
      ["card.reactivated", "admin:1", { via: "test", panMasked: bound.panMasked, userId: user.id }],
    ]);
  });

  it("refuses: already in that state, removed, erased, unknown card; nothing written", async () => {
    const bound = await bindAtSandbox(world, "humo1");
    const user = await createUser();
    const active = await insertCard(user.id, bound);
    const removed = await insertCard((await createUser()).id, bound, { status: "removed" });
    const erased = await insertCard((await createUser()).id, bound, { status: "erased" });
    const input = (cardId: number) => ({ cardId, actor: "admin:1", reason: "r", now: NOW });

    expect(
      await db.transaction((tx) => reactivateCard(tx, { cardTokenKey }, input(active.id))),
    ).toMatchObject({
      status: "unchanged",
    });
    await db.transaction((tx) =>
      deactivateCard(tx, { cardTokenKey }, { ...input(active.id), notifyUser: false }),
    );
    expect(
      await db.transaction((tx) =>
        deactivateCard(tx, { cardTokenKey }, { ...input(active.id), notifyUser: false }),
      ),
    ).toMatchObject({ status: "unchanged" });
    for (const id of [removed.id, erased.id]) {
      expect(await db.transaction((tx) => reactivateCard(tx, { cardTokenKey }, input(id)))).toEqual({
        status: "removed",
      });
      expect(
        await db.transaction((tx) =>
          deactivateCard(tx, { cardTokenKey }, { ...input(id), notifyUser: false }),
        ),
      ).toEqual({ status: "removed" });
    }
    expect(await db.transaction((tx) => reactivateCard(tx, { cardTokenKey }, input(999_999)))).toEqual({
      status: "not_found",
    });
    expect(await auditOf(removed.id)).toEqual([]);
    expect(await auditOf(erased.id)).toEqual([]);
  });

  it("a writer that moves only the old flags is refused by the database", async () => {
    const bound = await bindAtSandbox(world, "humo1");
    const card = await insertCard((await createUser()).id, bound);
    await expect(
      handle.client`update bound_cards set is_active = false where id = ${card.id}`,
    ).rejects.toThrow(/bound_cards_is_active_status_check/);
    await expect(
      handle.client`update bound_cards set removed_at = now() where id = ${card.id}`,
    ).rejects.toThrow(/bound_cards_removed_at_status_check/);
    await expect(
      handle.client`update bound_cards set card_token = null where id = ${card.id}`,
    ).rejects.toThrow(/bound_cards_card_token_status_check/);
  });
});

describe("remove (user or admin)", () => {
  const removal = (cardId: number, extra: { ownerUserId?: number; notifyUser?: boolean } = {}) =>
    removeCard(db, world.deps, {
      cardId,
      actor: "tg:1",
      reason: "user request",
      notifyUser: extra.notifyUser ?? false,
      now: NOW,
      ...(extra.ownerUserId === undefined ? {} : { ownerUserId: extra.ownerUserId }),
    });

  it("removes at the provider and here; its subscriptions stop renewing with it; audited", async () => {
    const bound = await bindAtSandbox(world, "humo1");
    const user = await createUser();
    const card = await insertCard(user.id, bound);
    const sub = await insertSubscription(user.id, card.id);

    const outcome = await removal(card.id, { ownerUserId: user.id, notifyUser: true });
    expect(outcome).toMatchObject({
      status: "removed",
      provider: { outcome: "removed" },
      subscriptionsStopped: [sub.id],
      card: { status: "removed", isActive: false, removedAt: NOW },
    });
    expect(await isHeldAtSandbox(world, bound.cardId)).toBe(false);
    const [after] = await db.select().from(subscriptions).where(eq(subscriptions.id, sub.id));
    expect(after).toMatchObject({ autoRenew: false, boundCardId: null, nextRenewalAt: null });
    const [audit] = await auditOf(card.id);
    expect(audit).toMatchObject({ action: "card.removed", actor: "tg:1", reason: "user request" });
    expect(audit!.details).toMatchObject({
      atmos: "removed",
      atmosCardId: String(bound.cardId),
      subscriptionsStopped: [sub.id],
    });
    // An active card removed with notifyUser owes the user's message.
    expect(await db.select().from(notificationOutbox)).toHaveLength(1);
    // Auto-renew off: the hosts hear premium.canceled for the live subscription.
    const events = await db.select().from(premiumEvents);
    expect(events.map((e) => [e.type, e.subscriptionId])).toEqual([["premium.canceled", sub.id]]);
    expect(events[0]!.payload).toMatchObject({ subscription: { status: "active", auto_renew: false } });
  });

  it("already gone at the provider is what we wanted", async () => {
    const bound = await bindAtSandbox(world, "humo1");
    const user = await createUser();
    const card = await insertCard(user.id, bound);
    await world.atmos.removeCard({ cardId: bound.cardId, cardToken: bound.token });

    expect(await removal(card.id)).toMatchObject({
      status: "removed",
      provider: { outcome: "already_gone" },
    });
    expect((await auditOf(card.id))[0]!.details).toMatchObject({ atmos: "card_not_found" });
  });

  it("keeps the card at the provider while another live card row holds it", async () => {
    const bound = await bindAtSandbox(world, "humo1");
    const mine = await insertCard((await createUser()).id, bound);
    const theirs = await insertCard((await createUser()).id, bound, { status: "deactivated" });

    expect(await removal(mine.id)).toMatchObject({
      status: "removed",
      provider: { outcome: "kept_shared", holder: { kind: "card_row", boundCardId: theirs.id } },
    });
    expect(await isHeldAtSandbox(world, bound.cardId)).toBe(true);
    expect((await auditOf(mine.id))[0]!.details).toMatchObject({
      atmos: "kept: shared with a live card row",
    });
  });

  it("refuses: another user's card, an unknown card, a card already removed; nothing written", async () => {
    const bound = await bindAtSandbox(world, "humo1");
    const owner = await createUser();
    const card = await insertCard(owner.id, bound);
    const removed = await insertCard((await createUser()).id, bound, { status: "removed" });

    expect(await removal(card.id, { ownerUserId: owner.id + 1 })).toEqual({ status: "not_found" });
    expect(await removal(999_999)).toEqual({ status: "not_found" });
    expect(await removal(removed.id)).toEqual({ status: "already_removed" });
    expect(await cardRow(card.id)).toMatchObject({ status: "active" });
    expect(await isHeldAtSandbox(world, bound.cardId)).toBe(true);
    expect(await db.select().from(auditLog)).toEqual([]);
  });

  it("provider unreachable: nothing changes here, the removal can be retried", async () => {
    const bound = await bindAtSandbox(world, "humo1");
    const user = await createUser();
    const card = await insertCard(user.id, bound);
    const down = { ...world.deps, provider: providerFor(atmosClientFor("http://127.0.0.1:9")) };

    const outcome = await removeCard(db, down, {
      cardId: card.id,
      actor: "tg:1",
      reason: "r",
      notifyUser: true,
      now: NOW,
    });
    expect(outcome).toMatchObject({
      status: "provider_failed",
      provider: { outcome: "unavailable", kind: "network" },
    });
    expect(await cardRow(card.id)).toMatchObject({ status: "active", isActive: true, removedAt: null });
    expect(await db.select().from(auditLog)).toEqual([]);
  });

  it("race: a removal while another user's payment with the same card is in flight leaves that card usable", async () => {
    // ATMOS keeps one binding per card for the merchant: user B typing A's card gets A's binding
    // (ERR-133) on B's session. A removes the card while B's payment is processing; B's success
    // then makes that binding B's card. Before the fix the removal checked only card rows, found
    // none, and removed the card at ATMOS while B's payment went on: B's renewal card was dead.
    const bound = await bindAtSandbox(world, "humo1");
    const a = await createUser();
    const b = await createUser();
    const aCard = await insertCard(a.id, bound);
    const bSession = await insertSessionWithBinding(b.id, await bindAtSandbox(world, "humo1"));

    // The removal's provider call waits for the test, so B's success can happen between A's check
    // and A's call to the provider.
    let entered!: () => void;
    const providerCalled = new Promise<void>((resolve) => {
      entered = resolve;
    });
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const gated = {
      ...world.deps,
      provider: {
        removeCard: async (input: { cardRef: string; cardToken: string }) => {
          entered();
          await gate;
          return world.deps.provider.removeCard(input);
        },
      },
    };
    const removing = removeCard(db, gated, {
      cardId: aCard.id,
      ownerUserId: a.id,
      actor: "tg:a",
      reason: "r",
      notifyUser: false,
      now: NOW,
    });
    await Promise.race([providerCalled, removing]);
    const activating = activate(bSession.id, String(bound.cardId));
    // Give B's success the time to commit unless it waits for A's removal.
    await Promise.race([activating, new Promise((resolve) => setTimeout(resolve, 300))]);
    open();
    const [removed, activated] = await Promise.all([removing, activating]);

    expect(removed).toMatchObject({ status: "removed" });
    expect(activated).toMatchObject({ status: "activated" });
    const bCard = await cardRow((activated as { boundCardId: number }).boundCardId);
    expect(bCard).toMatchObject({ userId: b.id, status: "active" });
    // B's card is still held at ATMOS and its token still works there.
    expect(await isHeldAtSandbox(world, bound.cardId)).toBe(true);
    expect((await auditOf(aCard.id))[0]!.details).toMatchObject({
      atmos: "kept: held by a payment in progress",
    });
  });

  it("race: two holders of one card removing at once still remove it at the provider once both are gone", async () => {
    // Without the provider-card lock both removals see the other row live and both keep the card
    // at ATMOS: a token nobody holds any more stays chargeable there.
    for (let round = 0; round < 5; round++) {
      const bound = await bindAtSandbox(world, round % 2 === 0 ? "humo1" : "humo2");
      const one = await insertCard((await createUser()).id, bound);
      const two = await insertCard((await createUser()).id, bound);
      const outcomes = await Promise.all([removal(one.id), removal(two.id)]);
      expect(outcomes.map((o) => o.status)).toEqual(["removed", "removed"]);
      expect(outcomes.map((o) => (o as { provider: { outcome: string } }).provider.outcome).sort()).toEqual([
        "kept_shared",
        "removed",
      ]);
      expect(await isHeldAtSandbox(world, bound.cardId)).toBe(false);
    }
  });
});

describe("token erasure (maintenance)", () => {
  const before = new Date(NOW.getTime() - DAY);
  const later = { before, actor: "renewals", now: NOW };

  it("removed for over a day → removed at the provider and the token dropped (erased), audited", async () => {
    const bound = await bindAtSandbox(world, "humo1");
    const card = await insertCard((await createUser()).id, bound, {
      status: "removed",
      removedAt: new Date(NOW.getTime() - 2 * DAY),
    });

    expect(await eraseRetiredCardToken(db, world.deps, { cardId: card.id, ...later })).toMatchObject({
      status: "erased",
      provider: { outcome: "removed" },
    });
    expect(await cardRow(card.id)).toMatchObject({ status: "erased", cardToken: null, isActive: false });
    expect(await isHeldAtSandbox(world, bound.cardId)).toBe(false);
    expect((await auditOf(card.id))[0]).toMatchObject({ action: "card.token_erased", actor: "renewals" });
    // An erased card never changes again by hand.
    expect(
      await db.transaction((tx) =>
        reactivateCard(tx, { cardTokenKey }, { cardId: card.id, actor: "admin:1", reason: "r", now: NOW }),
      ),
    ).toEqual({ status: "removed" });
  });

  it("skips a fresh removal, a live card and an erased one; defers while the provider is down", async () => {
    const bound = await bindAtSandbox(world, "humo1");
    const fresh = await insertCard((await createUser()).id, bound, { status: "removed", removedAt: NOW });
    const live = await insertCard((await createUser()).id, bound);
    const erased = await insertCard((await createUser()).id, bound, { status: "erased" });
    for (const id of [fresh.id, live.id, erased.id]) {
      expect(await eraseRetiredCardToken(db, world.deps, { cardId: id, ...later })).toEqual({
        status: "skipped",
      });
    }
    const old = await insertCard((await createUser()).id, bound, {
      status: "removed",
      removedAt: new Date(NOW.getTime() - 2 * DAY),
    });
    await handle.client`update bound_cards set status = 'removed', is_active = false, removed_at = now() where id = ${live.id}`;
    const down = { ...world.deps, provider: providerFor(atmosClientFor("http://127.0.0.1:9")) };
    expect(await eraseRetiredCardToken(db, down, { cardId: old.id, ...later })).toMatchObject({
      status: "deferred",
      provider: { outcome: "unavailable" },
    });
    expect(await cardRow(old.id)).toMatchObject({ status: "removed" });
    expect(await db.select().from(auditLog)).toEqual([]);
  });

  it("keeps the card at the provider while a payment in progress holds it, still drops our token", async () => {
    const bound = await bindAtSandbox(world, "humo1");
    const card = await insertCard((await createUser()).id, bound, {
      status: "removed",
      removedAt: new Date(NOW.getTime() - 2 * DAY),
    });
    await insertSessionWithBinding((await createUser()).id, bound, { status: "pending" });

    expect(await eraseRetiredCardToken(db, world.deps, { cardId: card.id, ...later })).toMatchObject({
      status: "erased",
      provider: { outcome: "kept_shared", holder: { kind: "pending_binding" } },
    });
    expect(await isHeldAtSandbox(world, bound.cardId)).toBe(true);
  });

  it("a session's unused binding: removed at the provider unless a live row holds it, token dropped", async () => {
    const bound = await bindAtSandbox(world, "humo1");
    const stale = new Date(NOW.getTime() - 2 * DAY);
    const user = await createUser();
    const unused = await insertSessionWithBinding(user.id, bound, { status: "failed", updatedAt: stale });
    const holder = await insertCard((await createUser()).id, bound);
    const input = { sessionId: unused.id, cardRef: String(bound.cardId), ...later };

    expect(await eraseStaleSessionBinding(db, world.deps, input)).toMatchObject({
      status: "erased",
      provider: { outcome: "kept_shared", holder: { kind: "card_row", boundCardId: holder.id } },
    });
    expect(await isHeldAtSandbox(world, bound.cardId)).toBe(true);
    const [after] = await db.select().from(paymentSessions).where(eq(paymentSessions.id, unused.id));
    expect(after!.bindCardToken).toBeNull();
    expect((await auditOf(unused.id))[0]).toMatchObject({ action: "card.binding_erased" });
    expect(await eraseStaleSessionBinding(db, world.deps, input)).toEqual({ status: "skipped" });

    const alone = await insertSessionWithBinding(user.id, bound, { status: "expired", updatedAt: stale });
    await handle.client`update bound_cards set status = 'removed', is_active = false, removed_at = now() where id = ${holder.id}`;
    expect(await eraseStaleSessionBinding(db, world.deps, { ...input, sessionId: alone.id })).toMatchObject({
      status: "erased",
      provider: { outcome: "removed" },
    });
    expect(await isHeldAtSandbox(world, bound.cardId)).toBe(false);
  });

  it("leaves a session in progress and a fresh one alone", async () => {
    const bound = await bindAtSandbox(world, "humo1");
    const user = await createUser();
    const processing = await insertSessionWithBinding(user.id, bound, {
      status: "processing",
      updatedAt: new Date(NOW.getTime() - 2 * DAY),
    });
    const fresh = await insertSessionWithBinding(user.id, bound, { status: "failed", updatedAt: NOW });
    for (const session of [processing, fresh]) {
      expect(
        await eraseStaleSessionBinding(db, world.deps, {
          sessionId: session.id,
          cardRef: String(bound.cardId),
          ...later,
        }),
      ).toEqual({ status: "skipped" });
    }
    expect(await isHeldAtSandbox(world, bound.cardId)).toBe(true);
  });
});
