/** The sandbox over raw HTTP: envelopes, WSO2 faults, legacy aliases, control endpoints, env. */
import { isExpired, parseExpiry, passesLuhn } from "@obuna/contracts/card";
import { afterEach, describe, expect, it } from "vitest";
import { sandboxEnv } from "../src/sandbox/env";
import { type RunningSandbox, SANDBOX_CARDS, SANDBOX_OTP, startSandbox } from "../src/sandbox/index";
import { CREDENTIALS } from "./helpers";

let sandbox: RunningSandbox | null = null;
afterEach(async () => {
  await sandbox?.close();
  sandbox = null;
});

async function start(options: Parameters<typeof startSandbox>[0] = {}) {
  sandbox = await startSandbox({
    consumerKey: CREDENTIALS.consumerKey,
    consumerSecret: CREDENTIALS.consumerSecret,
    storeId: CREDENTIALS.storeId,
    ...options,
  });
  const s = sandbox;
  const basic = Buffer.from(`${CREDENTIALS.consumerKey}:${CREDENTIALS.consumerSecret}`).toString("base64");
  async function token(): Promise<string> {
    const r = await fetch(`${s.url}/token`, {
      method: "POST",
      headers: { authorization: `Basic ${basic}`, "content-type": "application/x-www-form-urlencoded" },
      body: "grant_type=client_credentials",
    });
    return ((await r.json()) as { access_token: string }).access_token;
  }
  const bearer = await token();
  async function post(path: string, body: unknown, auth: string | null = `Bearer ${bearer}`) {
    const r = await fetch(`${s.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(auth ? { authorization: auth } : {}) },
      body: JSON.stringify(body),
    });
    // biome-ignore lint/suspicious/noExplicitAny: raw ATMOS wire JSON, asserted field by field
    return { status: r.status, json: (await r.json()) as Record<string, any> };
  }
  return { s, post, token, basic };
}

describe("sandbox cards", () => {
  it("every PAN passes Luhn; only the expired card has a past expiry", () => {
    for (const [name, card] of Object.entries(SANDBOX_CARDS)) {
      expect(passesLuhn(card.pan), name).toBe(true);
      const expiry = parseExpiry(card.expiry)!;
      expect(isExpired(expiry, new Date()), name).toBe(name === "expired");
    }
  });
});

describe("auth", () => {
  it("/token: Basic + form (or query) grant, expires_in from config", async () => {
    const { s, basic } = await start({ tokenTtlSeconds: 120 });
    const r = await fetch(`${s.url}/token?grant_type=client_credentials`, {
      method: "POST",
      headers: { authorization: `Basic ${basic}` },
    });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({
      token_type: "Bearer",
      expires_in: 120,
      scope: "am_application_scope default",
    });
  });

  it("/token with wrong credentials: 401 invalid_client", async () => {
    const { s } = await start();
    const r = await fetch(`${s.url}/token`, {
      method: "POST",
      headers: { authorization: `Basic ${Buffer.from("a:b").toString("base64")}` },
      body: new URLSearchParams({ grant_type: "client_credentials" }),
    });
    expect(r.status).toBe(401);
    expect(await r.json()).toMatchObject({ error: "invalid_client" });
  });

  it("missing and wrong tokens get WSO2-style 401 faults", async () => {
    const { post } = await start();
    const missing = await post("/merchant/pay/create", {}, null);
    expect(missing).toMatchObject({
      status: 401,
      json: { fault: { code: 900902, message: "Missing Credentials" } },
    });
    const wrong = await post("/merchant/pay/create", {}, "Bearer nope");
    expect(wrong).toMatchObject({
      status: 401,
      json: { fault: { code: 900901, message: "Invalid Credentials" } },
    });
  });

  it("reuseActiveToken returns the same token with its remaining lifetime", async () => {
    const { token } = await start({ reuseActiveToken: true });
    expect(await token()).toBe(await token());
  });

  it("unknown path with a valid token: WSO2 404 fault 900906", async () => {
    const { post } = await start();
    expect(await post("/merchant/pay/info", {})).toMatchObject({
      status: 404,
      json: { fault: { code: 900906 } },
    });
  });
});

describe("envelopes and legacy aliases", () => {
  it("business errors are HTTP 200 + STPIMS-ERR-NNN", async () => {
    const { post } = await start();
    const r = await post("/merchant/pay/get", { store_id: CREDENTIALS.storeId, transaction_id: 1 });
    expect(r).toMatchObject({ status: 200, json: { result: { code: "STPIMS-ERR-061" } } });
    const bad = await post("/merchant/pay/create", {
      store_id: CREDENTIALS.storeId,
      amount: "x",
      account: "1",
    });
    expect(bad.json.result.code).toBe("STPIMS-ERR-009");
  });

  it("pre-confirm / confirm / retry-otp work like pre-apply / apply / otp-resend", async () => {
    const { post, s } = await start();
    const store_id = CREDENTIALS.storeId;
    const created = await post("/merchant/pay/create", { store_id, amount: 1000, account: "7" });
    expect(created.json).toMatchObject({
      result: { code: "OK" },
      store_transaction: { confirmed: false, amount: 1000 },
    });
    const transaction_id = created.json.transaction_id as number;
    const pre = await post("/merchant/pay/pre-confirm", {
      store_id,
      transaction_id,
      card_number: SANDBOX_CARDS.humo4.pan,
      expiry: "2802",
    });
    expect(pre.json).toMatchObject({ result: { code: "OK" }, transaction_id });
    expect((await post("/merchant/pay/retry-otp", { store_id, transaction_id })).json.result.code).toBe("OK");
    expect((await post("/merchant/pay/otp-resend", { store_id, transaction_id })).json.result.code).toBe(
      "OK",
    );
    const confirm = await post("/merchant/pay/confirm", {
      store_id,
      transaction_id,
      otp: Number(SANDBOX_OTP),
    });
    expect(confirm.json).toMatchObject({
      result: { code: "OK" },
      store_transaction: {
        confirmed: true,
        status_code: "0",
        status_message: "Success",
        trans_id: transaction_id,
      },
    });
    expect(confirm.json.store_transaction.success_trans_id).toBeGreaterThan(0);
    expect(s.ledger()[0]!.state).toBe("confirmed");
  });

  it("pre-apply with both card_token and card_number is refused (ERR-009)", async () => {
    const { post } = await start();
    const store_id = CREDENTIALS.storeId;
    const created = await post("/merchant/pay/create", { store_id, amount: 1000, account: "7" });
    const r = await post("/merchant/pay/pre-apply", {
      store_id,
      transaction_id: created.json.transaction_id,
      card_token: "X",
      card_number: SANDBOX_CARDS.humo1.pan,
      expiry: "2802",
    });
    expect(r.json.result.code).toBe("STPIMS-ERR-009");
  });

  it("bind-card/create and bind-card/apply work like init/confirm; dial answers OK", async () => {
    const { post } = await start();
    const init = await post("/partner/bind-card/create", {
      card_number: SANDBOX_CARDS.uzcard2.pan,
      expiry: "2910",
    });
    expect(init.json).toMatchObject({ result: { code: "OK" }, phone: SANDBOX_CARDS.uzcard2.phone });
    const dial = await post("/partner/bind-card/dial", { transaction_id: init.json.transaction_id });
    expect(dial.json.result.code).toBe("OK");
    const apply = await post("/partner/bind-card/apply", {
      transaction_id: init.json.transaction_id,
      otp: SANDBOX_OTP,
    });
    expect(apply.json).toMatchObject({
      result: { code: "OK" },
      data: { pan: "860049******3347", expiry: "2910" },
    });
    const again = await post("/partner/bind-card/init", {
      card_number: SANDBOX_CARDS.uzcard2.pan,
      expiry: "2910",
    });
    expect(again.json).toMatchObject({
      result: { code: "STPIMS-ERR-133" },
      data: { card_token: apply.json.data.card_token },
    });
  });
});

describe("control endpoints", () => {
  it("GET /_sandbox/ledger lists transactions; POST /_sandbox/config patches the knobs", async () => {
    const { post, s } = await start();
    await post("/merchant/pay/create", { store_id: CREDENTIALS.storeId, amount: 1000, account: "7" });
    const ledger = (await (await fetch(`${s.url}/_sandbox/ledger`)).json()) as { transactions: unknown[] };
    expect(ledger.transactions).toEqual([
      expect.objectContaining({
        state: "created",
        amount: 1000,
        account: "7",
        cardMask: null,
        reversed: false,
      }),
    ]);
    const patched = await fetch(`${s.url}/_sandbox/config`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ latencyMs: 5, errorRate: 0.5, callbackField: "both" }),
    });
    expect(patched.status).toBe(200);
    const body = (await patched.json()) as { config: Record<string, unknown> };
    expect(body.config).toMatchObject({ latencyMs: 5, errorRate: 0.5, callbackField: "both" });
    expect(body.config.consumerSecret).toBeUndefined();
    expect(s.config()).toMatchObject({ errorRate: 0.5 });
  });

  it("POST /_sandbox/config refuses an invalid patch with 400", async () => {
    const { s } = await start();
    for (const patch of [{ errorRate: 2 }, { nope: 1 }, { callbackHash: "sha1" }]) {
      const r = await fetch(`${s.url}/_sandbox/config`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(patch),
      });
      expect(r.status).toBe(400);
    }
  });
});

describe("sandbox env", () => {
  it("defaults match .env.example and values are read from the ATMOS_* variables", () => {
    expect(sandboxEnv({})).toMatchObject({
      ATMOS_SANDBOX_PORT: 8040,
      ATMOS_SANDBOX_CALLBACK_FIELD: "account",
      ATMOS_CALLBACK_HASH: "md5",
    });
    const env = sandboxEnv({
      ATMOS_SANDBOX_PORT: "9000",
      ATMOS_SANDBOX_ERROR_RATE: "0.25",
      ATMOS_SANDBOX_CALLBACK_URL: "",
      ATMOS_STORE_ID: "555",
      ATMOS_CALLBACK_HASH: "sha256",
    });
    expect(env).toMatchObject({
      ATMOS_SANDBOX_PORT: 9000,
      ATMOS_SANDBOX_ERROR_RATE: 0.25,
      ATMOS_STORE_ID: "555",
    });
    expect(env.ATMOS_SANDBOX_CALLBACK_URL).toBeUndefined();
    expect(() => sandboxEnv({ ATMOS_SANDBOX_ERROR_RATE: "3" })).toThrow(/ATMOS_SANDBOX_ERROR_RATE/);
  });
});
