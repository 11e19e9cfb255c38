import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWorld, type World } from "./harness";

let world: World;
const TOKEN = "test-admin-token-0123456789";

beforeAll(async () => {
  world = await createWorld(new Date("2032-03-01T00:00:00.000Z"));
  await world.renewals.start({ schedulers: false });
});
afterAll(async () => {
  await world.close();
});

describe("health and Bull Board", () => {
  it("/healthz reports Postgres, Redis and the worker", async () => {
    const res = await world.renewals.app.request("/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, worker: "running", postgres: "ok", redis: "ok" });
  });

  it("refuses the board without the admin token", async () => {
    for (const path of ["/admin/queues", "/admin/queues/api/queues"]) {
      const res = await world.renewals.app.request(path);
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ success: false, error: { code: "UNAUTHORIZED" } });
    }
    const wrong = await world.renewals.app.request("/admin/queues/api/queues", {
      headers: { authorization: "Bearer wrong-token-0123456789x" },
    });
    expect(wrong.status).toBe(401);
  });

  it("serves the board with a Bearer token", async () => {
    const res = await world.renewals.app.request("/admin/queues/api/queues", {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { queues: { name: string }[] };
    expect(body.queues.map((q) => q.name).sort()).toEqual(["notifications", "renewals"]);
  });

  it("?token= sets an HttpOnly cookie that authorises the board's own requests", async () => {
    const first = await world.renewals.app.request(`/admin/queues?token=${TOKEN}`);
    expect(first.status).toBe(200);
    const cookie = first.headers.get("set-cookie")!;
    expect(cookie).toMatch(/renewals_admin=/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Path=\/admin\/queues/);
    const next = await world.renewals.app.request("/admin/queues/api/queues", {
      headers: { cookie: cookie.split(";")[0]! },
    });
    expect(next.status).toBe(200);
  });
});
