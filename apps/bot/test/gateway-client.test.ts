import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { createGatewayClient, GatewayError } from "@obuna/grammy/gateway-client";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PLANS, subscriptionFixture } from "./helpers";

const TOKEN = "internal-token-for-tests-0123";
const seen: { method: string; path: string; auth: string | undefined; body: string }[] = [];
let baseUrl = "";
let server: ReturnType<typeof serve>;

beforeAll(async () => {
  const app = new Hono();
  app.use(async (c, next) => {
    seen.push({
      method: c.req.method,
      path: c.req.path,
      auth: c.req.header("authorization"),
      body: await c.req.text(),
    });
    if (c.req.header("authorization") !== `Bearer ${TOKEN}`) {
      return c.json(
        { success: false, error: { code: "UNAUTHORIZED", message: "bad token", requestId: "req_1" } },
        401,
      );
    }
    await next();
  });
  app.get("/api/v1/plans", (c) => c.json({ success: true, data: { plans: PLANS } }));
  app.get("/api/v1/user/:id/subscription", (c) =>
    c.req.param("id") === "1"
      ? c.json({ success: true, data: { subscription: subscriptionFixture() } })
      : c.json(
          {
            success: false,
            error: { code: "USER_NOT_FOUND", message: "User not found", requestId: "req_2" },
          },
          404,
        ),
  );
  app.get("/api/v1/user/:id/payments", (c) =>
    c.json({ success: true, data: { payments: [{ id: "not a number" }] } }),
  );
  app.post("/api/v1/subscription/:id/cancel", (c) => c.json({ success: true, data: { subscription: null } }));
  app.post("/api/v1/subscription/:id/resume", (c) => c.text("upstream exploded", 502));
  app.post("/api/v1/payment/create-link", (c) => {
    c.header("Retry-After", "1750");
    return c.json(
      {
        success: false,
        error: {
          code: "RATE_LIMITED",
          message: "Too many payment links requested; try again in 1750 s",
          requestId: "req_9",
          details: { limit: "links_user", retry_after_s: 1750 },
        },
      },
      429,
    );
  });
  await new Promise<void>((resolve) => {
    server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve());
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("gateway client", () => {
  const client = () => createGatewayClient({ baseUrl, internalToken: TOKEN });

  it("a 429 RATE_LIMITED carries the Retry-After seconds", async () => {
    const error = await client()
      .createLink({ telegram_id: 1, plan_slug: "monthly" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ code: "RATE_LIMITED", status: 429, retryAfterS: 1750 });
  });

  it("sends the internal bearer token and unwraps the success envelope", async () => {
    const { plans } = await client().listPlans();
    expect(plans.map((p) => p.slug)).toEqual(["monthly", "yearly"]);
    expect(seen.at(-1)).toMatchObject({ method: "GET", path: "/api/v1/plans", auth: `Bearer ${TOKEN}` });
    const { subscription } = await client().getSubscription(1);
    expect(subscription?.id).toBe(501);
    await client().cancelSubscription(501);
    expect(seen.at(-1)).toMatchObject({ method: "POST", path: "/api/v1/subscription/501/cancel" });
  });

  it("turns the error envelope into a GatewayError with the code", async () => {
    const error = await client()
      .getSubscription(2)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ code: "USER_NOT_FOUND", status: 404, requestId: "req_2" });
    const unauthorized = await createGatewayClient({ baseUrl, internalToken: "wrong-token-wrong-token" })
      .listPlans()
      .catch((e: unknown) => e);
    expect(unauthorized).toMatchObject({ code: "UNAUTHORIZED", status: 401 });
  });

  it("refuses data that does not match the contract, and non-JSON answers", async () => {
    await expect(client().listPayments(1)).rejects.toMatchObject({
      code: null,
      message: expect.stringContaining("did not match"),
    });
    await expect(client().resumeSubscription(1)).rejects.toMatchObject({ code: null, status: 502 });
  });

  it("reports an unreachable gateway as code null", async () => {
    const dead = createGatewayClient({
      baseUrl: "http://127.0.0.1:9",
      internalToken: TOKEN,
      timeoutMs: 2_000,
    });
    await expect(dead.listPlans()).rejects.toMatchObject({ code: null, status: null });
  });
});
