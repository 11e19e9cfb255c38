import { afterEach, describe, expect, it } from "vitest";
import { atmosFailure, fakeClock, setup } from "./helpers";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});
async function harness(options: Parameters<typeof setup>[0] = {}) {
  const h = await setup(options);
  cleanups.push(h.sandbox.close);
  return h;
}

describe("access token", () => {
  it("is fetched once and reused while valid", async () => {
    const h = await harness();
    await h.client.createTransaction({ amount: 100, account: "1" });
    await h.client.createTransaction({ amount: 100, account: "2" });
    await h.client.listCards();
    expect(h.tokenRequests()).toBe(1);
  });

  it("makes exactly one token request for 100 concurrent calls on an empty cache", async () => {
    const h = await harness();
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        h.client.createTransaction({ amount: 100 + i, account: String(i + 1) }),
      ),
    );
    expect(new Set(results.map((t) => t.transactionId)).size).toBe(100);
    expect(h.tokenRequests()).toBe(1);
  });

  it("is refreshed a margin before it expires", async () => {
    const clock = fakeClock();
    const h = await harness({
      clock,
      sandbox: { tokenTtlSeconds: 600 },
      client: { tokenRefreshMarginMs: 60_000 },
    });
    await h.client.listCards();
    clock.advance(539_000); // 9 min less 1 s: still inside the lifetime minus the margin
    await h.client.listCards();
    expect(h.tokenRequests()).toBe(1);
    clock.advance(2_000); // within the last minute: refresh before ATMOS would reject it
    await h.client.listCards();
    expect(h.tokenRequests()).toBe(2);
    expect(h.calls("/partner/list-cards")).toBe(3);
  });

  it("with a very short lifetime refreshes at half of it", async () => {
    const clock = fakeClock();
    const h = await harness({ clock, sandbox: { tokenTtlSeconds: 2 } });
    await h.client.listCards();
    clock.advance(900);
    await h.client.listCards();
    expect(h.tokenRequests()).toBe(1);
    clock.advance(200);
    await h.client.listCards();
    expect(h.tokenRequests()).toBe(2);
  });

  it("on a 401 drops the cached token and retries the call once", async () => {
    const h = await harness();
    const created = await h.client.createTransaction({ amount: 100, account: "1" });
    h.sandbox.expireTokens();
    const got = await h.client.getTransaction(created.transactionId);
    expect(got.state).toBe("created");
    expect(h.tokenRequests()).toBe(2);
    expect(h.calls("/merchant/pay/get")).toBe(2);
  });

  it("a 401 on a mutating call is retried once too (the gateway refused it before processing)", async () => {
    const h = await harness();
    await h.client.listCards();
    h.sandbox.expireTokens();
    await h.client.createTransaction({ amount: 100, account: "1" });
    expect(h.calls("/merchant/pay/create")).toBe(2);
    expect(h.sandbox.ledger()).toHaveLength(1);
  });

  it("a token ATMOS considers expired is answered with a WSO2 401 and recovered", async () => {
    const atmosClock = fakeClock();
    const h = await harness({ sandbox: { now: atmosClock.now, tokenTtlSeconds: 3600 } });
    await h.client.listCards();
    atmosClock.advance(3_601_000); // ATMOS's clock runs past the expiry; ours does not
    const cards = await h.client.listCards();
    expect(cards).toEqual([]);
    expect(h.tokenRequests()).toBe(2);
    expect(h.calls("/partner/list-cards")).toBe(3);
  });

  it("wrong credentials give `unauthorized`, not retried", async () => {
    const h = await harness({ client: { consumerSecret: "wrong" } });
    const error = await atmosFailure(() => h.client.listCards());
    expect(error.kind).toBe("unauthorized");
    expect(error.retryable).toBe(false);
    expect(h.tokenRequests()).toBe(1);
  });

  it("5xx answers on /token are retried with backoff", async () => {
    const h = await harness({ sandbox: { failNext: 2, faultPath: "/token" } });
    const created = await h.client.createTransaction({ amount: 100, account: "1" });
    expect(created.state).toBe("created");
    expect(h.tokenRequests()).toBe(3);
  });

  it("gives up on /token after the configured attempts with a typed error", async () => {
    const h = await harness({ sandbox: { failNext: 5, faultPath: "/token" } });
    const error = await atmosFailure(() => h.client.createTransaction({ amount: 100, account: "1" }));
    expect(error.kind).toBe("server_error");
    expect(error.outcomeUnknown).toBe(false);
    expect(h.tokenRequests()).toBe(3);
    expect(h.calls("/merchant/pay/create")).toBe(0);
  });

  it("a token timeout is retried", async () => {
    const h = await harness({ sandbox: { timeoutNext: 1, faultPath: "/token" }, client: { timeoutMs: 300 } });
    await h.client.listCards();
    expect(h.tokenRequests()).toBe(2);
  });
});
