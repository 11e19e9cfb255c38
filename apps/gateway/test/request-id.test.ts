import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { findCardNumbers } from "@obuna/contracts/card";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, type Harness, internalAuth, randomTelegramId, SANDBOX_CARDS, startHarness } from "./harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

/** The log lines written while handling requests with this id. */
const linesOf = (requestId: string) =>
  h.logLines
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((l) => l.requestId === requestId);

describe("x-request-id (set by the bot per update and by the Mini App proxy)", () => {
  it("keeps a well-formed incoming id: echoed in the header and the error envelope, and on every log line", async () => {
    const id = `bot-4242-${Date.now().toString(16)}`;
    const ok = await call(h, "GET", "/api/v1/plans", { auth: internalAuth, headers: { "x-request-id": id } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("x-request-id")).toBe(id);
    expect(linesOf(id).some((l) => l.msg === "request" && l.path === "/api/v1/plans")).toBe(true);

    const miniappId = "miniapp_0b7e4a52-8a0f-4b4f-9d0a-3f1f6f3a9a11";
    const refused = await call(h, "GET", "/api/v1/user/1/subscription", {
      auth: "Bearer wrong-token",
      headers: { "x-request-id": miniappId },
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("x-request-id")).toBe(miniappId);
    expect(refused.body.error.requestId).toBe(miniappId);
    expect(linesOf(miniappId).length).toBeGreaterThan(0);
  });

  it("a line logged besides the request line carries the id too (a 429's warning), and only that request's id", async () => {
    const telegramId = randomTelegramId();
    const body = { telegram_id: telegramId, plan_slug: "monthly" };
    // The harness allows 20 links per user per hour; the 21st is refused and logged.
    for (let i = 0; i < 20; i++) {
      const res = await call(h, "POST", "/api/v1/payment/create-link", { auth: internalAuth, body });
      expect(res.status).toBe(200);
    }
    const id = `bot-429-${Date.now().toString(16)}`;
    const limited = await call(h, "POST", "/api/v1/payment/create-link", {
      auth: internalAuth,
      body,
      headers: { "x-request-id": id },
    });
    expect(limited.status).toBe(429);
    const lines = linesOf(id);
    expect(lines.map((l) => l.msg).sort()).toEqual(["rate limited", "request"]);
    expect(lines.find((l) => l.msg === "rate limited")).toMatchObject({ limit: "links_user" });
    expect(lines.find((l) => l.msg === "request")).toMatchObject({ status: 429 });
  });

  it("replaces an id that is too long or has other characters with its own (never logs the sent text)", async () => {
    const bad = ["x".repeat(65), "has space", 'quote"inject', "ünïcode", "a/b", "line\tbreak"];
    for (const sent of bad) {
      const res = await call(h, "GET", "/healthz", { headers: { "x-request-id": sent } });
      expect(res.status).toBe(200);
      const own = res.headers.get("x-request-id")!;
      expect(own).not.toBe(sent);
      expect(own).toMatch(/^req_[0-9a-f-]{36}$/);
    }
    const at64 = "y".repeat(64);
    const kept = await call(h, "GET", "/healthz", { headers: { "x-request-id": at64 } });
    expect(kept.headers.get("x-request-id")).toBe(at64);
    expect(h.logLines.join("\n")).not.toContain("x".repeat(65));
    expect(h.logLines.join("\n")).not.toContain('quote\\"inject');
  });

  it("a card number in the URL or as the request id never reaches a log line (a PAN typed as a Telegram id, or sent on purpose)", async () => {
    const pan = SANDBOX_CARDS.humo1.pan;
    expect(findCardNumbers(pan)).toEqual([pan]);
    const before = h.logLines.length;
    const asUser = await call(h, "GET", `/api/v1/user/${pan}/subscription`, {
      auth: internalAuth,
      headers: { "x-request-id": pan },
    });
    const nowhere = await call(h, "GET", `/no/such/${pan}`, { headers: { "x-request-id": `bot-${pan}` } });
    for (const res of [asUser, nowhere]) {
      expect(res.headers.get("x-request-id")).toMatch(/^req_[0-9a-f-]{36}$/);
      expect(JSON.stringify(res.body)).not.toContain(pan);
    }
    expect(nowhere.status).toBe(404);
    // Not every long number is a card: a millisecond timestamp in an id is kept.
    const stamped = `miniapp-${Date.now()}`;
    expect(
      (await call(h, "GET", "/healthz", { headers: { "x-request-id": stamped } })).headers.get(
        "x-request-id",
      ),
    ).toBe(stamped);
    const lines = h.logLines.slice(before).join("\n");
    expect(lines).toContain(`"path":"/no/such/${pan.slice(0, 6)}******${pan.slice(-4)}"`);
    expect(findCardNumbers(lines)).toEqual([]);
  });

  it("over a real socket (the Node server): every answer carries it, errors and unknown routes too", async () => {
    const server = serve({ fetch: h.app.fetch, port: 0, hostname: "127.0.0.1" });
    await new Promise((resolve) => server.once("listening", resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const sent = `bot-${Date.now().toString(16)}`;
      const ok = await fetch(`${base}/api/v1/plans`, {
        headers: { authorization: internalAuth, "x-request-id": sent },
      });
      expect(ok.status).toBe(200);
      expect(ok.headers.get("x-request-id")).toBe(sent);
      expect(ok.headers.get("content-type")).toMatch(/^application\/json/);

      const refused = await fetch(`${base}/api/v1/payment/create-link`, {
        method: "POST",
        headers: { authorization: "Bearer wrong-token", "content-type": "application/json" },
        body: "{}",
      });
      expect(refused.status).toBe(401);
      const own = refused.headers.get("x-request-id");
      expect(own).toMatch(/^req_[0-9a-f-]{36}$/);
      expect(((await refused.json()) as { error: { requestId: string } }).error.requestId).toBe(own);
      // One header, not two: Node's head and the adapter's must not both write it.
      expect(own).not.toContain(",");

      const missing = await fetch(`${base}/no/such/route`);
      expect(missing.status).toBe(404);
      expect(missing.headers.get("x-request-id")).toMatch(/^req_/);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
