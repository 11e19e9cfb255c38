import type { Entitlement } from "@obuna/contracts/http";
import { describe, expect, it } from "vitest";
import { type EntitlementRead, GatewayError } from "../src/gateway-client";
import { PremiumCache } from "../src/premium-cache";

const entitlement = (telegramId: number, active: boolean): Entitlement => ({
  telegram_id: telegramId,
  active,
  status: active ? "active" : "none",
  plan: null,
  until: null,
  rail: active ? "card" : null,
  auto_renew: false,
  grace: { active: false, until: null },
});

/** A gateway stand-in that records each read with the ETag it was sent, answering 304 on a match. */
function gatewayStandIn() {
  const state = { active: false, version: 1, down: false };
  const reads: Array<{ telegramId: number; etag: string | null }> = [];
  const read = async (telegramId: number, etag: string | null): Promise<EntitlementRead> => {
    reads.push({ telegramId, etag });
    // The answer is what the gateway saw when the request arrived; it reaches the bot a bit later.
    const { active, version, down } = state;
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (down) throw new GatewayError(null, null, "gateway unreachable: connect ECONNREFUSED");
    const current = `"v${version}"`;
    if (etag === current) return { status: "not_modified" };
    return { status: "fresh", entitlement: entitlement(telegramId, active), etag: current };
  };
  return { state, reads, read };
}

describe("PremiumCache", () => {
  it("answers from memory within the TTL, then revalidates with the ETag (304 keeps the answer)", async () => {
    const gw = gatewayStandIn();
    const clock = { now: 0 };
    const cache = new PremiumCache(gw.read, { ttlMs: 1_000, clock: () => clock.now });
    expect((await cache.get(7)).active).toBe(false);
    expect((await cache.get(7)).active).toBe(false);
    expect(gw.reads).toEqual([{ telegramId: 7, etag: null }]);
    clock.now = 1_500;
    expect((await cache.get(7)).active).toBe(false);
    expect(gw.reads[1]).toEqual({ telegramId: 7, etag: '"v1"' });
    // The 304 renewed the answer's age: no request until the TTL passes again.
    clock.now = 2_000;
    await cache.get(7);
    expect(gw.reads).toHaveLength(2);
  });

  it("concurrent lookups of one user share one request", async () => {
    const gw = gatewayStandIn();
    const cache = new PremiumCache(gw.read);
    const answers = await Promise.all([cache.get(8), cache.get(8), cache.get(8), cache.get(9)]);
    expect(answers.map((a) => a.telegram_id)).toEqual([8, 8, 8, 9]);
    expect(gw.reads.map((r) => r.telegramId)).toEqual([8, 9]);
  });

  it("invalidate() makes the next lookup ask the gateway, and drops an answer that was on its way", async () => {
    const gw = gatewayStandIn();
    const cache = new PremiumCache(gw.read, { ttlMs: 60_000 });
    expect((await cache.get(7)).active).toBe(false);
    gw.state.active = true;
    gw.state.version = 2;
    expect((await cache.get(7)).active).toBe(false); // cached
    cache.invalidate(7);
    expect((await cache.get(7)).active).toBe(true);

    // An old answer in flight when the event arrives is not stored.
    gw.state.active = false;
    gw.state.version = 3;
    cache.invalidate(7);
    const inFlight = cache.get(7);
    gw.state.active = true;
    gw.state.version = 4;
    cache.invalidate(7);
    expect((await inFlight).active).toBe(false);
    expect((await cache.get(7)).active).toBe(true);
  });

  it("while a payment link is open, 'not premium' is re-checked every time; 'premium' is cached", async () => {
    const gw = gatewayStandIn();
    const clock = { now: 0 };
    const cache = new PremiumCache(gw.read, { ttlMs: 60_000, clock: () => clock.now });
    await cache.get(7);
    cache.noteCheckout(7, new Date(30 * 60_000));
    await cache.get(7);
    await cache.get(7);
    expect(gw.reads).toHaveLength(3);
    gw.state.active = true;
    gw.state.version = 2;
    expect((await cache.get(7)).active).toBe(true);
    await cache.get(7);
    expect(gw.reads).toHaveLength(4);

    // After the link expired, a "not premium" answer is cached again.
    const other = new PremiumCache(gw.read, { ttlMs: 60_000, clock: () => clock.now });
    gw.state.active = false;
    gw.state.version = 3;
    await other.get(8);
    other.noteCheckout(8, new Date(1_000));
    clock.now = 2_000;
    await other.get(8);
    await other.get(8);
    expect(gw.reads.filter((r) => r.telegramId === 8)).toHaveLength(1);
  });

  it("when the gateway is unreachable, a recent answer is used; without one the error goes up", async () => {
    const gw = gatewayStandIn();
    const clock = { now: 0 };
    const cache = new PremiumCache(gw.read, { ttlMs: 1_000, staleIfErrorMs: 60_000, clock: () => clock.now });
    gw.state.active = true;
    await cache.get(7);
    gw.state.down = true;
    clock.now = 30_000;
    expect((await cache.get(7)).active).toBe(true);
    clock.now = 90_000;
    await expect(cache.get(7)).rejects.toBeInstanceOf(GatewayError);
    await expect(cache.get(8)).rejects.toBeInstanceOf(GatewayError);
  });

  it("keeps at most maxEntries users", async () => {
    const gw = gatewayStandIn();
    const cache = new PremiumCache(gw.read, { maxEntries: 2 });
    await cache.get(1);
    await cache.get(2);
    await cache.get(3);
    await cache.get(3);
    await cache.get(2);
    await cache.get(1);
    expect(gw.reads.map((r) => r.telegramId)).toEqual([1, 2, 3, 1]);
  });
});
