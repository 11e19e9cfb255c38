/** Real-world failures: timeouts, lost answers, 5xx, HTML pages, resets. */
import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createAtmosClient } from "../src/index";
import { SANDBOX_CARDS, SANDBOX_OTP } from "../src/sandbox/index";
import { startCallbackReceiver } from "./callback-receiver";
import { atmosFailure, CREDENTIALS, setup } from "./helpers";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});
async function harness(options: Parameters<typeof setup>[0] = {}) {
  const h = await setup({ ...options, client: { timeoutMs: 400, ...options.client } });
  cleanups.push(h.sandbox.close);
  return h;
}
type Client = Awaited<ReturnType<typeof harness>>["client"];

async function preApplied(client: Client) {
  const created = await client.createTransaction({ amount: 2_900_000, account: "9001" });
  const { humo1 } = SANDBOX_CARDS;
  await client.preApplyCard({
    transactionId: created.transactionId,
    cardNumber: humo1.pan,
    expiry: humo1.expiry,
  });
  return created.transactionId;
}

describe("outcome unknown on mutating calls", () => {
  it("apply that times out before ATMOS processed it: outcomeUnknown, then get says not charged", async () => {
    const h = await harness({ sandbox: { faultPath: "/merchant/pay/apply" } });
    const id = await preApplied(h.client);
    h.sandbox.configure({ timeoutNext: 1 });
    const error = await atmosFailure(() => h.client.apply({ transactionId: id, otp: SANDBOX_OTP }));
    expect(error).toMatchObject({
      kind: "timeout",
      outcomeUnknown: true,
      retryable: false,
      transactionId: id,
    });
    expect(h.calls("/merchant/pay/apply")).toBe(1); // never repeated automatically
    expect((await h.client.getTransaction(id)).state).toBe("pre_applied");
  });

  it("apply whose charge succeeds but whose answer is lost (reset): outcomeUnknown, get says confirmed", async () => {
    const h = await harness();
    const id = await preApplied(h.client);
    h.sandbox.configure({ loseNextApply: 1 });
    const error = await atmosFailure(() => h.client.apply({ transactionId: id, otp: SANDBOX_OTP }));
    expect(error).toMatchObject({ kind: "network", outcomeUnknown: true, transactionId: id });
    expect(h.calls("/merchant/pay/apply")).toBe(1);
    const resolved = await h.client.getTransaction(id);
    expect(resolved).toMatchObject({ state: "confirmed", confirmed: true });
    expect(resolved.successTransId).toBe(h.sandbox.ledger()[0]!.successTransId);
  });

  it("lost answer that never comes (hang): timeout + outcomeUnknown, get says confirmed", async () => {
    const h = await harness({ sandbox: { lostApplyMode: "hang" } });
    const id = await preApplied(h.client);
    h.sandbox.configure({ loseNextApply: 1 });
    const error = await atmosFailure(() => h.client.apply({ transactionId: id, otp: SANDBOX_OTP }));
    expect(error).toMatchObject({ kind: "timeout", outcomeUnknown: true });
    expect((await h.client.getTransaction(id)).state).toBe("confirmed");
  });

  it("chargeCardToken with a lost apply: outcomeUnknown with the transaction id to reconcile", async () => {
    const h = await harness();
    const init = await h.client.bindCardInit({
      cardNumber: SANDBOX_CARDS.humo2.pan,
      expiry: SANDBOX_CARDS.humo2.expiry,
    });
    if (init.status !== "otp_sent") throw new Error("unreachable");
    const card = await h.client.bindCardConfirm({ transactionId: init.transactionId, otp: SANDBOX_OTP });
    h.sandbox.configure({ loseNextApply: 1 });
    const error = await atmosFailure(() => h.client.chargeCardToken(card.cardToken, 100, "r-1"));
    expect(error.outcomeUnknown).toBe(true);
    expect(error.transactionId).toBe(h.sandbox.ledger()[0]!.transactionId);
    expect((await h.client.getTransaction(error.transactionId!)).state).toBe("confirmed");
  });

  it("lostApplyRate 1 loses every apply answer", async () => {
    const h = await harness({ sandbox: { lostApplyRate: 1 } });
    const id = await preApplied(h.client);
    expect(
      (await atmosFailure(() => h.client.apply({ transactionId: id, otp: SANDBOX_OTP }))).outcomeUnknown,
    ).toBe(true);
  });

  it("5xx on create: server_error, outcomeUnknown, not retried", async () => {
    const h = await harness({ sandbox: { faultPath: "/merchant/pay/create" } });
    await h.client.listCards(); // token first
    h.sandbox.configure({ failNext: 1 });
    const error = await atmosFailure(() => h.client.createTransaction({ amount: 100, account: "1" }));
    expect(error).toMatchObject({
      kind: "server_error",
      httpStatus: 502,
      outcomeUnknown: true,
      retryable: false,
    });
    expect(h.calls("/merchant/pay/create")).toBe(1);
  });

  it("connection refused (nothing sent): network, outcome known, retryable", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const { port } = blocker.address() as AddressInfo;
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
    const client = createAtmosClient({
      baseUrl: `http://127.0.0.1:${port}`,
      consumerKey: CREDENTIALS.consumerKey,
      consumerSecret: CREDENTIALS.consumerSecret,
      storeId: CREDENTIALS.storeId,
      retry: { attempts: 2, baseDelayMs: 1 },
    });
    const error = await atmosFailure(() => client.createTransaction({ amount: 100, account: "1" }));
    expect(error).toMatchObject({ kind: "network", outcomeUnknown: false, retryable: true });
  });
});

describe("STPIMS-ERR-001 (internal)", () => {
  it("on apply it is outcomeUnknown; two concurrent applies charge once", async () => {
    const receiver = await startCallbackReceiver();
    cleanups.push(receiver.close);
    const h = await harness({ sandbox: { callbackUrl: receiver.url } });
    const id = await preApplied(h.client);
    const results = await Promise.allSettled([
      h.client.apply({ transactionId: id, otp: SANDBOX_OTP }),
      h.client.apply({ transactionId: id, otp: SANDBOX_OTP }),
    ]);
    const failed = results
      .filter((r) => r.status === "rejected")
      .map((r) => (r as PromiseRejectedResult).reason);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      kind: "internal",
      code: "STPIMS-ERR-001",
      outcomeUnknown: true,
      retryable: false,
    });
    expect(receiver.received).toHaveLength(1);
    expect(h.sandbox.ledger().filter((e) => e.state === "confirmed")).toHaveLength(1);
    expect((await h.client.getTransaction(id)).state).toBe("confirmed");
  });

  it("on get it is retried", async () => {
    const h = await harness();
    let first = true;
    const client = createAtmosClient({
      baseUrl: h.sandbox.url,
      consumerKey: CREDENTIALS.consumerKey,
      consumerSecret: CREDENTIALS.consumerSecret,
      storeId: CREDENTIALS.storeId,
      retry: { attempts: 2, baseDelayMs: 1 },
      fetch: async (input, init) => {
        if (first && String(input).includes("/merchant/pay/get")) {
          first = false;
          return Response.json({ result: { code: "STPIMS-ERR-001", description: "Внутренняя ошибка" } });
        }
        return fetch(input, init);
      },
    });
    const created = await client.createTransaction({ amount: 100, account: "1" });
    expect((await client.getTransaction(created.transactionId)).state).toBe("created");
  });
});

describe("unrecognised result codes", () => {
  it("on apply that charged: outcomeUnknown (never a decline), get says confirmed", async () => {
    const h = await harness({ sandbox: { faultPath: "/merchant/pay/apply" } });
    const id = await preApplied(h.client);
    h.sandbox.configure({ unrecognisedCodeNext: 1, unrecognisedCodeMode: "after" });
    const error = await atmosFailure(() => h.client.apply({ transactionId: id, otp: SANDBOX_OTP }));
    expect(error).toMatchObject({
      kind: "unrecognised_result",
      code: "STPIMS-ERR-999",
      outcomeUnknown: true,
      retryable: false,
      transactionId: id,
    });
    expect(h.calls("/merchant/pay/apply")).toBe(1);
    expect(await h.client.getTransaction(id)).toMatchObject({ state: "confirmed", confirmed: true });
  });

  it("on apply that did nothing: outcomeUnknown, get says still pre-applied", async () => {
    const h = await harness({ sandbox: { faultPath: "/merchant/pay/apply" } });
    const id = await preApplied(h.client);
    h.sandbox.configure({ unrecognisedCodeNext: 1, unrecognisedCodeMode: "before" });
    const error = await atmosFailure(() => h.client.apply({ transactionId: id, otp: SANDBOX_OTP }));
    expect(error).toMatchObject({ kind: "unrecognised_result", outcomeUnknown: true });
    expect((await h.client.getTransaction(id)).state).toBe("pre_applied");
  });

  it("on a read (list-cards) it is a plain error, not an unknown outcome", async () => {
    const h = await harness({ sandbox: { faultPath: "/partner/list-cards" } });
    h.sandbox.configure({ unrecognisedCodeNext: 1 });
    const error = await atmosFailure(() => h.client.listCards());
    expect(error).toMatchObject({ kind: "unrecognised_result", outcomeUnknown: false });
  });
});

describe("reversal by ATMOS (ledger control)", () => {
  it("a confirmed transaction reversed at ATMOS reads reversed and not confirmed", async () => {
    const h = await harness();
    const id = await preApplied(h.client);
    h.sandbox.configure({ loseNextApply: 1 });
    await atmosFailure(() => h.client.apply({ transactionId: id, otp: SANDBOX_OTP }));
    const res = await fetch(`${h.sandbox.url}/_sandbox/reverse`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ transaction_id: id }),
    });
    expect(await res.json()).toEqual({ result: "reversed" });
    expect(await h.client.getTransaction(id)).toMatchObject({ state: "reversed", confirmed: false });
    expect(h.sandbox.ledger()[0]).toMatchObject({ state: "reversed", reversed: true });
    expect(h.sandbox.reverseTransaction(id)).toBe("not_confirmed");
  });
});

describe("idempotent calls are retried", () => {
  it("getTransaction retries 5xx and timeouts with backoff", async () => {
    const h = await harness({ sandbox: { faultPath: "/merchant/pay/get" } });
    const created = await h.client.createTransaction({ amount: 100, account: "1" });
    h.sandbox.configure({ failNext: 1, timeoutNext: 1 });
    expect((await h.client.getTransaction(created.transactionId)).state).toBe("created");
    expect(h.calls("/merchant/pay/get")).toBe(3);
  });

  it("getTransaction gives up after the attempts with a typed, retryable error", async () => {
    const h = await harness({ sandbox: { faultPath: "/merchant/pay/get", errorRate: 1 } });
    const created = await h.client.createTransaction({ amount: 100, account: "1" });
    const error = await atmosFailure(() => h.client.getTransaction(created.transactionId));
    expect(error).toMatchObject({ kind: "server_error", retryable: true, outcomeUnknown: false });
    expect(h.calls("/merchant/pay/get")).toBe(3);
  });
});

describe("non-JSON answers become typed errors", () => {
  it("an HTML 403 page (IP not allow-listed) → unauthorized, outcome known", async () => {
    const h = await harness({ sandbox: { faultPath: "/merchant/pay/create" } });
    h.sandbox.configure({ htmlNext: 1 });
    const error = await atmosFailure(() => h.client.createTransaction({ amount: 100, account: "1" }));
    expect(error).toMatchObject({ kind: "unauthorized", httpStatus: 403, outcomeUnknown: false });
    expect(error.message).toContain("Access denied");
  });

  it.each([
    ["HTML with 200", "<html><body>Gateway error</body></html>", "text/html", 200],
    ["XML fault with 200", "<ams:fault><ams:code>900901</ams:code></ams:fault>", "application/xml", 200],
    ["truncated JSON", '{"result":{"code":"OK"', "application/json", 200],
    ["JSON without result", '{"status":{"code":0}}', "application/json", 200],
    ["empty body", "", "application/json", 200],
  ])(
    "%s → bad_response (outcomeUnknown on a mutating call, retried on get)",
    async (_label, text, type, status) => {
      const h = await harness();
      let hits = 0;
      const client = createAtmosClient({
        baseUrl: h.sandbox.url,
        consumerKey: CREDENTIALS.consumerKey,
        consumerSecret: CREDENTIALS.consumerSecret,
        storeId: CREDENTIALS.storeId,
        retry: { attempts: 2, baseDelayMs: 1 },
        fetch: async (input, init) => {
          if (String(input).includes("/merchant/")) {
            hits++;
            return new Response(text, { status, headers: { "content-type": type } });
          }
          return fetch(input, init);
        },
      });
      const create = await atmosFailure(() => client.createTransaction({ amount: 100, account: "1" }));
      expect(create).toMatchObject({ kind: "bad_response", outcomeUnknown: true });
      const get = await atmosFailure(() => client.getTransaction(5));
      expect(get).toMatchObject({ kind: "bad_response", outcomeUnknown: false, retryable: true });
      expect(hits).toBe(3);
    },
  );

  it("an OK answer with a wrong shape → bad_response (zod at the boundary)", async () => {
    const h = await harness();
    const client = createAtmosClient({
      baseUrl: h.sandbox.url,
      consumerKey: CREDENTIALS.consumerKey,
      consumerSecret: CREDENTIALS.consumerSecret,
      storeId: CREDENTIALS.storeId,
      fetch: async (input, init) =>
        String(input).includes("/merchant/pay/create")
          ? Response.json({ result: { code: "OK", description: "" }, transaction_id: "abc" })
          : fetch(input, init),
    });
    const error = await atmosFailure(() => client.createTransaction({ amount: 100, account: "1" }));
    expect(error).toMatchObject({ kind: "bad_response", outcomeUnknown: true });
    expect(error.message).toContain("transaction_id");
  });

  it("a wrong base path (WSO2 fault JSON instead of a token) → typed error, not a crash", async () => {
    const h = await harness();
    const client = createAtmosClient({
      baseUrl: `${h.sandbox.url}/v9`,
      consumerKey: CREDENTIALS.consumerKey,
      consumerSecret: CREDENTIALS.consumerSecret,
      storeId: CREDENTIALS.storeId,
    });
    const error = await atmosFailure(() => client.listCards());
    expect(error).toMatchObject({ kind: "unauthorized", httpStatus: 401, endpoint: "/token" });
  });
});

describe("sandbox latency knob", () => {
  it("adds latency; a call slower than timeoutMs times out", async () => {
    const h = await harness({
      sandbox: { latencyMs: 600 },
      client: { timeoutMs: 200, retry: { attempts: 1 } },
    });
    const error = await atmosFailure(() => h.client.listCards());
    expect(error.kind).toBe("timeout");
  });
});

describe("sandbox close", () => {
  it("releases a call that is being held (timeout knob) with a typed error", async () => {
    const h = await setup({
      sandbox: { faultPath: "/partner/list-cards", timeoutNext: 1 },
      client: { timeoutMs: 60_000 },
    });
    const pending = atmosFailure(() => h.client.listCards());
    await vi.waitFor(() => expect(h.calls("/partner/list-cards")).toBe(1));
    await h.sandbox.close();
    const error = await pending;
    expect(["server_error", "network"]).toContain(error.kind);
  });
});
