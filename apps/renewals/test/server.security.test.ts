import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BOARD_SESSION_TTL_S, signBoardSession } from "../src/server";
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
    expect(body.queues.map((q) => q.name).sort()).toEqual(["events", "notifications", "renewals"]);
  });

  it("never takes the token from the URL: ?token= is refused and sets no cookie", async () => {
    for (const path of [`/admin/queues?token=${TOKEN}`, `/admin/queues/api/queues?token=${TOKEN}`]) {
      const res = await world.renewals.app.request(path);
      expect(res.status).toBe(401);
      expect(res.headers.get("set-cookie")).toBeNull();
    }
  });

  it("the login form posts the token in the body and gets a signed, expiring session cookie (not the token)", async () => {
    const page = await world.renewals.app.request("/admin/queues/login");
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('method="post"');

    const wrong = await world.renewals.app.request("/admin/queues/login", {
      method: "POST",
      body: new URLSearchParams({ token: "wrong-token-0123456789x" }),
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("set-cookie")).toBeNull();

    const crossSite = await world.renewals.app.request("/admin/queues/login", {
      method: "POST",
      headers: { "sec-fetch-site": "cross-site" },
      body: new URLSearchParams({ token: TOKEN }),
    });
    expect(crossSite.status).toBe(403);
    expect(crossSite.headers.get("set-cookie")).toBeNull();

    const first = await world.renewals.app.request("/admin/queues/login", {
      method: "POST",
      body: new URLSearchParams({ token: TOKEN }),
    });
    expect(first.status).toBe(303);
    expect(first.headers.get("location")).toBe("/admin/queues");
    const cookie = first.headers.get("set-cookie")!;
    expect(cookie).toMatch(/renewals_admin=bb1\./);
    expect(cookie).not.toContain(TOKEN);
    expect(cookie).not.toContain(encodeURIComponent(TOKEN));
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Path=\/admin\/queues/);
    expect(cookie).toMatch(/Max-Age=28800/);
    const pair = cookie.split(";")[0]!;
    const next = await world.renewals.app.request("/admin/queues/api/queues", { headers: { cookie: pair } });
    expect(next.status).toBe(200);

    // The raw token as the cookie value (the old scheme) no longer authorises anything.
    const raw = await world.renewals.app.request("/admin/queues/api/queues", {
      headers: { cookie: `renewals_admin=${TOKEN}` },
    });
    expect(raw.status).toBe(401);
    // Tampered expiry: the signature no longer matches.
    const [prefix, exp, nonce, sig] = pair.slice("renewals_admin=".length).split(".");
    const later = `${prefix}.${Number(exp) + 86_400 * 365}.${nonce}.${sig}`;
    const tampered = await world.renewals.app.request("/admin/queues/api/queues", {
      headers: { cookie: `renewals_admin=${later}` },
    });
    expect(tampered.status).toBe(401);
  });

  it("a session cookie stops working when it expires, or when signed with another ADMIN_TOKEN", async () => {
    const expired = signBoardSession(TOKEN, new Date(Date.now() - BOARD_SESSION_TTL_S * 1000 - 1000));
    const res = await world.renewals.app.request("/admin/queues/api/queues", {
      headers: { cookie: `renewals_admin=${expired}` },
    });
    expect(res.status).toBe(401);
    const forged = signBoardSession("another-admin-token-0123456789", new Date());
    const other = await world.renewals.app.request("/admin/queues/api/queues", {
      headers: { cookie: `renewals_admin=${forged}` },
    });
    expect(other.status).toBe(401);
    const fresh = signBoardSession(TOKEN, new Date());
    const ok = await world.renewals.app.request("/admin/queues/api/queues", {
      headers: { cookie: `renewals_admin=${fresh}` },
    });
    expect(ok.status).toBe(200);
  });
});
