import { describe, expect, inject, it } from "vitest";
import { TEST_SECRETS } from "./secrets";

const PAGES = [
  "/admin",
  "/admin/payment-sessions",
  "/admin/payments",
  "/admin/subscriptions",
  "/admin/cards",
  "/admin/users",
  "/admin/audit-log",
  "/admin/confirm?action=payment.refund&id=1",
];

function url(path: string): string {
  return `${inject("miniappUrl")}${path}`;
}

function form(fields: Record<string, string>): URLSearchParams {
  return new URLSearchParams(fields);
}

async function signIn(headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url("/api/admin/session"), {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: form({ token: TEST_SECRETS.adminToken, actor: "security-test", next: "/admin/cards" }),
  });
}

function sessionCookie(response: Response): string {
  const header = response.headers.get("set-cookie") ?? "";
  const pair = header.split(";")[0] ?? "";
  if (!pair.startsWith("obuna_admin=") || pair === "obuna_admin=")
    throw new Error(`no session cookie: ${header}`);
  return pair;
}

describe("admin panel: sessions and forms", () => {
  it("every admin page sends a visitor without a session to the login page", async () => {
    for (const path of PAGES) {
      const response = await fetch(url(path), { redirect: "manual" });
      expect(response.status, path).toBe(307);
      expect(response.headers.get("location"), path).toBe(`/admin/login?next=${encodeURIComponent(path)}`);
    }
  });

  it("a forged or stale session cookie is refused by the gateway, cleared, and leads to login", async () => {
    for (const value of ["adm1.e30.forged", TEST_SECRETS.internalApiToken]) {
      const response = await fetch(url("/admin/payments"), {
        redirect: "manual",
        headers: { cookie: `obuna_admin=${encodeURIComponent(value)}` },
      });
      expect(response.status).toBe(307);
      expect(response.headers.get("location")).toMatch(/^\/admin\/login\?next=/);
      expect(response.headers.get("set-cookie")).toMatch(
        /^obuna_admin=; Path=\/; Max-Age=0; HttpOnly; SameSite=Strict$/,
      );
    }
  });

  it("signing in sets an httpOnly SameSite=Strict cookie that is not the admin token; Secure behind https", async () => {
    const plain = await signIn();
    expect(plain.status).toBe(303);
    expect(plain.headers.get("location")).toBe("/admin/cards");
    const cookie = plain.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).not.toMatch(/Secure/);
    expect(cookie).not.toContain(TEST_SECRETS.adminToken);
    expect(Number(cookie.match(/Max-Age=(\d+)/)?.[1])).toBeGreaterThan(0);

    const behindHttps = await signIn({ "x-forwarded-proto": "https" });
    expect(behindHttps.headers.get("set-cookie")).toMatch(/; Secure$/);

    const page = await fetch(url("/admin/cards"), { headers: { cookie: sessionCookie(plain) } });
    expect(page.status).toBe(200);
    expect(page.headers.get("cache-control")).toContain("no-store");
    const html = await page.text();
    expect(html).toContain("security-test");
    expect(html).not.toContain(TEST_SECRETS.adminToken);
  });

  it("a wrong token, an empty token or a post from another site gets no cookie", async () => {
    for (const [body, headers] of [
      [{ token: "wrong-token" }, {}],
      [{ token: "" }, {}],
      [{ token: TEST_SECRETS.adminToken }, { origin: "https://evil.example" }],
      [{ token: TEST_SECRETS.adminToken }, { "sec-fetch-site": "cross-site", origin: "null" }],
    ] as const) {
      const response = await fetch(url("/api/admin/session"), {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
        body: form(body),
      });
      expect(response.status).toBe(303);
      expect(response.headers.get("location")).toMatch(/^\/admin\/login\?error=/);
      expect(response.headers.get("set-cookie")).toBeNull();
    }
    const get = await fetch(url("/api/admin/session"), { redirect: "manual" });
    expect(get.status).toBe(405);
  });

  it("the action endpoint needs a session, a same-site form, a reason and a known action; it never redirects off-site", async () => {
    const cookie = sessionCookie(await signIn());
    const post = (fields: Record<string, string>, headers: Record<string, string> = {}) =>
      fetch(url("/api/admin/action"), {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
        body: form(fields),
      });
    const refund = { action: "payment.refund", id: "999999", return_to: "/admin/payments" };

    const anonymous = await post({ ...refund, reason: "because" });
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get("location")).toBe("/admin/login");

    const crossSite = await post(
      { ...refund, reason: "because" },
      { cookie, origin: "https://evil.example" },
    );
    expect(crossSite.status).toBe(403);

    const noReason = await post({ ...refund, reason: " x " }, { cookie });
    expect(noReason.status).toBe(303);
    expect(new URL(noReason.headers.get("location") ?? "", "http://x").searchParams.get("error")).toBe(
      "Give a reason of 3 to 500 characters.",
    );

    const badDays = await post(
      { action: "subscription.extend", id: "1", days: "0", reason: "because", return_to: "/admin" },
      { cookie },
    );
    expect(new URL(badDays.headers.get("location") ?? "", "http://x").searchParams.get("error")).toBe(
      "Days must be a whole number from 1 to 3660.",
    );

    const unknown = await post({ ...refund, action: "payment.delete", reason: "because" }, { cookie });
    expect(unknown.headers.get("location")).toBe("/admin/payments?error=Unknown%20action");

    // The gateway's own answer comes back in plain words; return_to cannot point elsewhere.
    const missing = await post({ ...refund, return_to: "//evil.example/x", reason: "because" }, { cookie });
    const location = new URL(missing.headers.get("location") ?? "", "http://x");
    expect(location.pathname).toBe("/admin/confirm");
    expect(location.searchParams.get("return_to")).toBe("/admin");
    expect(location.searchParams.get("error")).toBe("Payment not found (PAYMENT_NOT_FOUND)");
    // A definite answer: the next try is a new action with a new Idempotency-Key.
    expect(location.searchParams.get("key")).toBeNull();
  });

  it("the login page never points back outside the admin panel", async () => {
    const response = await fetch(url(`/admin/login?next=${encodeURIComponent("https://evil.example/")}`));
    const html = await response.text();
    expect(html).toContain('name="next" value="/admin"');
    expect(html).not.toMatch(/(href|action|value)="[^"]*evil\.example/);
  });

  it("a filter the gateway refuses is shown as its message on the page, not a server error", async () => {
    const cookie = sessionCookie(await signIn());
    const response = await fetch(url("/admin/payments?status=bogus&limit=5000"), { headers: { cookie } });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toMatch(/role="alert"[^>]*>[^<]+\(VALIDATION_ERROR\)/);
  });
});
