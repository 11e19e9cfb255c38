import { describe, expect, inject, it } from "vitest";
import { ADMIN_ACTIONS, type AdminActionName } from "../src/admin/actions";
import { tr } from "../src/admin/i18n";
import { LOGIN_MESSAGES } from "../src/admin/server/flash";
import { TEST_SECRETS } from "./secrets";

// biome-ignore lint/suspicious/noExplicitAny: test JSON is checked by assertions, not types
type Json = any;

const PAGES = [
  "/admin",
  "/admin/payment-sessions",
  "/admin/payments",
  "/admin/subscriptions",
  "/admin/cards",
  "/admin/users",
  "/admin/audit-log",
  "/admin/confirm?action=payment.refund&id=1",
  "/admin/plans",
  "/admin/plan?mode=price&id=1",
  "/admin/events",
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

/** The `name=value` pair of one cookie the response sets (null when it sets none by that name). */
function setCookie(response: Response, name: string): string | null {
  const header = response.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
  return header ? header.split(";")[0]! : null;
}

function sessionCookie(response: Response): string {
  const pair = setCookie(response, "obuna_admin");
  if (!pair || pair === "obuna_admin=")
    throw new Error(`no session cookie: ${response.headers.getSetCookie().join(" | ")}`);
  return pair;
}

/** Follows one redirect the way the browser would: with the session and the flash cookie it was given. */
async function follow(response: Response, cookie: string | null): Promise<{ url: URL; html: string }> {
  const location = new URL(response.headers.get("location") ?? "", url("/"));
  const flash = setCookie(response, "obuna_admin_flash");
  const cookies = [cookie, flash].filter(Boolean).join("; ");
  const page = await fetch(location, { redirect: "manual", headers: cookies ? { cookie: cookies } : {} });
  return { url: location, html: await page.text() };
}

/**
 * The rendered page without Next's `__NEXT_DATA__` (a JSON data block, never rendered, that always
 * echoes the URL's query).
 */
function rendered(html: string): string {
  return html.replace(/<script id="__NEXT_DATA__"[^>]*>[\s\S]*?<\/script>/, "");
}

/** The page props the browser hydrates with. */
function pageProps(html: string): Record<string, unknown> {
  const json = /<script id="__NEXT_DATA__"[^>]*>([\s\S]*?)<\/script>/.exec(html)?.[1] ?? "{}";
  return (JSON.parse(json) as { props?: { pageProps?: Record<string, unknown> } }).props?.pageProps ?? {};
}

/** HTML text as the reader sees it (React escapes quotes, and Uzbek is full of apostrophes). */
function text(html: string): string {
  return html
    .replace(/&#x27;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

/** The text of the page's banner (role=alert or role=status), if any. */
function banner(html: string, role: "alert" | "status"): string | null {
  return new RegExp(`role="${role}"[^>]*>([^<]*)<`).exec(html)?.[1] ?? null;
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
      expect(response.headers.getSetCookie()).toContain(
        "obuna_admin=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict",
      );
    }
  });

  it("signing in sets an httpOnly SameSite=Strict cookie that is not the admin token; Secure behind https", async () => {
    const plain = await signIn();
    expect(plain.status).toBe(303);
    expect(plain.headers.get("location")).toBe("/admin/cards");
    const cookie = plain.headers.getSetCookie().find((c) => c.startsWith("obuna_admin=")) ?? "";
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).not.toMatch(/Secure/);
    expect(cookie).not.toContain(TEST_SECRETS.adminToken);
    expect(Number(cookie.match(/Max-Age=(\d+)/)?.[1])).toBeGreaterThan(0);

    const behindHttps = await signIn({ "x-forwarded-proto": "https" });
    expect(behindHttps.headers.getSetCookie().find((c) => c.startsWith("obuna_admin="))).toMatch(/; Secure$/);

    const page = await fetch(url("/admin/cards"), { headers: { cookie: sessionCookie(plain) } });
    expect(page.status).toBe(200);
    expect(page.headers.get("cache-control")).toContain("no-store");
    const html = await page.text();
    // The actor is who the credential says (ADMIN_TOKEN → admin), not the name the form sent.
    expect(html).toMatch(/data-testid="admin-actor"[^>]*>admin</);
    expect(html).not.toContain("security-test");
    expect(html).not.toContain(TEST_SECRETS.adminToken);
  });

  it("a wrong token, an empty token or a post from another site gets no cookie", async () => {
    for (const [body, headers, message] of [
      [{ token: "wrong-token" }, {}, "That admin token is not valid."],
      [{ token: "" }, {}, "Enter the admin token."],
      [
        { token: TEST_SECRETS.adminToken },
        { origin: "https://evil.example" },
        "The form was sent from another site.",
      ],
      [
        { token: TEST_SECRETS.adminToken },
        { "sec-fetch-site": "cross-site", origin: "null" },
        "The form was sent from another site.",
      ],
    ] as const) {
      const response = await fetch(url("/api/admin/session"), {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
        body: form(body),
      });
      expect(response.status).toBe(303);
      expect(response.headers.get("location")).toBe("/admin/login?next=%2Fadmin");
      expect(setCookie(response, "obuna_admin")).toBeNull();
      // The message comes through the flash cookie, not the URL.
      expect(banner((await follow(response, null)).html, "alert")).toBe(message);
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
    expect(noReason.headers.get("location")).toBe(
      "/admin/confirm?action=payment.refund&id=999999&return_to=%2Fadmin%2Fpayments",
    );
    expect(banner((await follow(noReason, cookie)).html, "alert")).toBe(
      "Give a reason of 3 to 500 characters.",
    );

    const badDays = await post(
      { action: "subscription.extend", id: "1", days: "0", reason: "because", return_to: "/admin" },
      { cookie },
    );
    const badDaysPage = await follow(badDays, cookie);
    expect(badDaysPage.url.search).toBe("?action=subscription.extend&id=1&return_to=%2Fadmin");
    expect(banner(badDaysPage.html, "alert")).toBe("Days must be a whole number from 1 to 3660.");
    // The form comes back as typed (from the flash, for this session only).
    expect(badDaysPage.html).toMatch(/<textarea[^>]*name="reason"[^>]*>because<\/textarea>/);

    const unknown = await post({ ...refund, action: "payment.delete", reason: "because" }, { cookie });
    expect(unknown.headers.get("location")).toBe("/admin/payments");
    expect(banner((await follow(unknown, cookie)).html, "alert")).toBe("Unknown action");

    // The gateway's own answer comes back in plain words; return_to cannot point elsewhere.
    const missing = await post({ ...refund, return_to: "//evil.example/x", reason: "because" }, { cookie });
    const missingPage = await follow(missing, cookie);
    expect(missingPage.url.pathname).toBe("/admin/confirm");
    expect(missingPage.url.searchParams.get("return_to")).toBe("/admin");
    expect([...missingPage.url.searchParams.keys()].sort()).toEqual(["action", "id", "return_to"]);
    expect(banner(missingPage.html, "alert")).toBe("Payment not found (PAYMENT_NOT_FOUND)");
    // A definite answer: the next try is a new action with a new Idempotency-Key.
    const [, flashKey] = /name="idempotency_key" value="([^"]+)"/.exec(missingPage.html) ?? [];
    expect(flashKey).toMatch(/^[0-9a-f-]{36}$/);

    // Another admin session cannot read this session's flash.
    const other = sessionCookie(await signIn());
    const again = await post({ ...refund, reason: "because" }, { cookie });
    expect(banner((await follow(again, other)).html, "alert")).toBeNull();
  });

  it("plan forms and the language switch: a session, a same-site form; the form takes no value, reason or key from the URL", async () => {
    const cookie = sessionCookie(await signIn());
    const post = (path: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
      fetch(url(path), {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
        body: form(fields),
      });
    const price = {
      mode: "price",
      id: "1",
      price_som: "1",
      reason: "because",
      idempotency_key: "k".repeat(20),
    };
    const anonymous = await post("/api/admin/plan", price);
    expect(anonymous.headers.get("location")).toBe("/admin/login");
    expect((await post("/api/admin/plan", price, { cookie, origin: "https://evil.example" })).status).toBe(
      403,
    );
    expect(
      (await post("/api/admin/lang", { lang: "ru" }, { cookie, origin: "https://evil.example" })).status,
    ).toBe(403);
    const noReason = await post("/api/admin/plan", { ...price, reason: "x" }, { cookie });
    const noReasonPage = await follow(noReason, cookie);
    expect(noReasonPage.url.search).toBe("?mode=price&id=1");
    expect(banner(noReasonPage.html, "alert")).toBe("Give a reason of 3 to 500 characters.");
    // The typed price comes back (flash), never from the URL.
    expect(noReasonPage.html).toMatch(/name="price_som"[^>]*value="1"/);
    const fromUrl = await fetch(
      url(`/admin/plan?mode=price&id=1&price_som=777&reason=from-the-link&idempotency_key=${"z".repeat(20)}`),
      { headers: { cookie } },
    );
    const raw = await fromUrl.text();
    const fields = (pageProps(raw) as { result: { data: Json } }).result.data;
    expect(fields.values.price_som).toBe("29000");
    expect(fields.reason).toBe("");
    expect(fields.idempotencyKey).not.toBe("z".repeat(20));
    // The rendered page (Next's own copy of the query in __NEXT_DATA__ aside) shows none of it.
    const html = rendered(raw);
    expect(html).not.toContain("777");
    expect(html).not.toContain("from-the-link");
    expect(html).not.toContain("z".repeat(20));

    const lang = await post(
      "/api/admin/lang",
      { lang: "uz", return_to: "https://evil.example/" },
      { cookie },
    );
    expect(lang.status).toBe(303);
    expect(lang.headers.get("location")).toBe("/admin");
    expect(setCookie(lang, "obuna_admin_lang")).toBe("obuna_admin_lang=uz");
    const uz = await (
      await fetch(url("/admin/plans"), { headers: { cookie: `${cookie}; obuna_admin_lang=uz` } })
    ).text();
    expect(uz).toContain("Tariflar");
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

  it("banners never come from the URL: ?error= and ?notice= put no text on any admin page", async () => {
    const cookie = sessionCookie(await signIn());
    const attack = `?error=${encodeURIComponent("<script>alert(1)</script>Your session expired, call +998 90 000 00 00")}&notice=${encodeURIComponent("Refund approved by the CEO")}`;
    for (const path of ["/admin/login", "/admin", "/admin/payments", "/admin/confirm"]) {
      const response = await fetch(url(`${path}${attack}`), { headers: { cookie }, redirect: "manual" });
      const raw = await response.text();
      expect(JSON.stringify(pageProps(raw)), path).not.toMatch(/alert\(1\)|call \+998|CEO/);
      const html = rendered(raw);
      expect(html, path).not.toContain("alert(1)");
      expect(html, path).not.toContain("call +998");
      expect(html, path).not.toContain("approved by the CEO");
    }
    const login = rendered(await (await fetch(url(`/admin/login${attack}`))).text());
    expect(login).not.toContain("call +998");
    expect(banner(login, "alert")).toBeNull();
    expect(banner(login, "status")).toBeNull();
  });

  it("the confirmation page takes no reason, days or Idempotency-Key from the URL", async () => {
    const cookie = sessionCookie(await signIn());
    const attackerKey = "attacker-chosen-key-0001";
    const response = await fetch(
      url(
        `/admin/confirm?action=subscription.extend&id=1&return_to=%2Fadmin&reason=${encodeURIComponent("approved by support")}&days=3000&key=${attackerKey}`,
      ),
      { headers: { cookie } },
    );
    expect(response.status).toBe(200);
    const raw = await response.text();
    const props = pageProps(raw) as { result: { data: Record<string, unknown> } };
    expect(props.result.data).toMatchObject({ reason: "", days: "30" });
    expect(props.result.data.idempotencyKey).not.toBe(attackerKey);
    const html = rendered(raw);
    expect(html).toMatch(/<textarea[^>]*name="reason"[^>]*><\/textarea>/);
    expect(html).not.toContain("approved by support");
    expect(html).toMatch(/name="days"[^>]*value="30"/);
    expect(html).not.toContain("3000");
    expect(html).not.toContain(attackerKey);
  });

  it("GET /admin/logout signs nobody out and is never a redirect target; POST /api/admin/logout ends the session at the gateway", async () => {
    const cookie = sessionCookie(await signIn());
    const page = await fetch(url("/admin/logout"), { headers: { cookie }, redirect: "manual" });
    expect(page.status).toBe(200);
    expect(page.headers.getSetCookie()).toEqual([]);
    expect(await page.text()).toContain('action="/api/admin/logout"');
    expect((await fetch(url("/admin/cards"), { headers: { cookie }, redirect: "manual" })).status).toBe(200);
    expect((await fetch(url("/api/admin/logout"), { headers: { cookie }, redirect: "manual" })).status).toBe(
      405,
    );

    // Neither sign-in nor an action can be sent on to /admin/logout.
    const signInNext = await fetch(url("/api/admin/session"), {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: form({ token: TEST_SECRETS.adminToken, next: "/admin/logout" }),
    });
    expect(signInNext.headers.get("location")).toBe("/admin");
    const loginPage = await (await fetch(url("/admin/login?next=%2Fadmin%2Flogout"))).text();
    expect(loginPage).toContain('name="next" value="/admin"');

    const crossSite = await fetch(url("/api/admin/logout"), {
      method: "POST",
      redirect: "manual",
      headers: { cookie, "sec-fetch-site": "cross-site" },
    });
    expect(crossSite.status).toBe(403);

    const out = await fetch(url("/api/admin/logout"), {
      method: "POST",
      redirect: "manual",
      headers: { cookie, "sec-fetch-site": "same-origin" },
    });
    expect(out.status).toBe(303);
    expect(out.headers.get("location")).toBe("/admin/login");
    expect(out.headers.getSetCookie()).toContain(
      "obuna_admin=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict",
    );
    expect(banner((await follow(out, null)).html, "status")).toBe("You are signed out.");
    // The old cookie (copied before sign-out) no longer works: the gateway ended the session.
    const reused = await fetch(url("/admin/cards"), { headers: { cookie }, redirect: "manual" });
    expect(reused.status).toBe(307);
    expect(reused.headers.get("location")).toMatch(/^\/admin\/login\?next=/);
    const bearer = decodeURIComponent(cookie.slice("obuna_admin=".length));
    const direct = await fetch(`${inject("gatewayUrl")}/api/v1/admin/me`, {
      headers: { authorization: `Bearer ${bearer}` },
    });
    expect(direct.status).toBe(401);
  });

  it("sign-in, sign-out and the confirmation pages follow the obuna_admin_lang cookie (ru, uz)", async () => {
    // A few sentences spelled out here, so the test does not only compare the dictionary with itself.
    const spotChecks = {
      ru: [
        "Токен администратора",
        "Этот токен администратора недействителен.",
        "Вы вышли.",
        "ATMOS отменяет списание",
      ],
      uz: [
        "Administrator tokeni",
        "Bu administrator tokeni yaroqsiz.",
        "Siz tizimdan chiqdingiz.",
        "ATMOS to'lovni bekor qiladi",
      ],
    } as const;
    const englishOnLogin = ["Admin token", ">Sign in<", "Sign in ·", ...Object.values(LOGIN_MESSAGES)];
    for (const lang of ["ru", "uz"] as const) {
      const langCookie = `obuna_admin_lang=${lang}`;
      const seen: string[] = [];

      // The login page, with a refused sign-in's banner (flash cookie) in the cookie's language.
      const wrong = await fetch(url("/api/admin/session"), {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: form({ token: "wrong-token", next: "/admin/cards" }),
      });
      const login = await follow(wrong, langCookie);
      expect(login.url.pathname).toBe("/admin/login");
      const loginText = text(rendered(login.html));
      expect(text(banner(login.html, "alert") ?? "")).toBe(tr(lang, LOGIN_MESSAGES.invalid_token));
      expect(loginText).toContain(`>${tr(lang, "Admin token")}<`);
      expect(loginText).toContain(`>${tr(lang, "Sign in")}<`);
      // Its own language switch comes back to the page asked for (through the guard, to this login).
      expect(login.html).toMatch(/action="\/api\/admin\/lang"/);
      expect(login.html).toContain('name="return_to" value="/admin/cards"');
      for (const english of englishOnLogin) expect(loginText, english).not.toContain(english);
      seen.push(loginText);

      // The sign-out page and, after POST /api/admin/logout, the "signed out" banner.
      const cookie = sessionCookie(await signIn());
      const logoutPage = text(
        rendered(
          await (
            await fetch(url("/admin/logout"), { headers: { cookie: `${cookie}; ${langCookie}` } })
          ).text(),
        ),
      );
      expect(logoutPage).toContain(`>${tr(lang, "Sign out")}<`);
      expect(logoutPage).not.toContain("Sign out");
      seen.push(logoutPage);

      // Every action's confirmation page: title, consequence and labels translated.
      for (const action of Object.keys(ADMIN_ACTIONS) as AdminActionName[]) {
        const definition = ADMIN_ACTIONS[action];
        const page = await fetch(url(`/admin/confirm?action=${action}&id=1`), {
          headers: { cookie: `${cookie}; ${langCookie}` },
        });
        expect(page.status).toBe(200);
        const html = text(rendered(await page.text()));
        expect(html, action).toContain(tr(lang, definition.consequence));
        expect(tr(lang, definition.consequence), action).not.toBe(definition.consequence);
        for (const english of [definition.consequence, definition.title, "Reason (kept in the audit log)"]) {
          expect(html, `${action}: ${english}`).not.toContain(english);
        }
        seen.push(html);
      }

      const out = await fetch(url("/api/admin/logout"), {
        method: "POST",
        redirect: "manual",
        headers: { cookie, "sec-fetch-site": "same-origin" },
      });
      const signedOut = await follow(out, langCookie);
      expect(text(banner(signedOut.html, "status") ?? "")).toBe(tr(lang, LOGIN_MESSAGES.signed_out));
      expect(rendered(signedOut.html)).not.toContain(LOGIN_MESSAGES.signed_out);
      seen.push(text(rendered(signedOut.html)));

      for (const sentence of spotChecks[lang]) {
        expect(
          seen.some((html) => html.includes(sentence)),
          sentence,
        ).toBe(true);
      }
    }
  });

  it("admin pages: a per-request nonce CSP with no third-party origin, and every script carries the nonce", async () => {
    const cookie = sessionCookie(await signIn());
    const nonces = new Set<string>();
    for (const [path, headers] of [
      ["/admin/login", {}],
      ["/admin/payments", { cookie }],
      ["/admin/confirm?action=payment.refund&id=1", { cookie }],
      ["/admin/plans", { cookie }],
      ["/admin/events", { cookie }],
      ["/admin/plan?mode=create", { cookie }],
      ["/admin/logout", {}],
    ] as const) {
      const response = await fetch(url(path), { headers, redirect: "manual" });
      expect(response.status, path).toBe(200);
      const csp = response.headers.get("content-security-policy") ?? "";
      const nonce = /script-src 'nonce-([A-Za-z0-9+/=]+)' 'strict-dynamic'(;|$)/.exec(csp)?.[1];
      expect(nonce, `${path}: ${csp}`).toBeTruthy();
      nonces.add(nonce!);
      // One policy only, and no origin but this one (frame-ancestors only says who may frame the panel).
      expect(csp.split(",")).toHaveLength(1);
      const loading = csp
        .split(";")
        .filter((d) => !d.trim().startsWith("frame-ancestors"))
        .join(";");
      expect(loading, path).not.toMatch(/https?:|\*/);
      expect(csp, path).not.toMatch(/script-src[^;]*'unsafe-inline'/);
      expect(csp, path).not.toContain("telegram.org/js");
      const html = await response.text();
      const scripts = html.match(/<script\b[^>]*>/g) ?? [];
      expect(scripts.length, path).toBeGreaterThan(0);
      for (const tag of scripts) {
        expect(tag, path).toContain(`nonce="${nonce}"`);
        expect(tag, path).not.toMatch(/src="https?:/);
      }
      expect(html, path).not.toContain("telegram.org");
    }
    expect(nonces.size).toBe(7);
    // The Mini App's own pages keep their policy (Telegram's script is allowed there).
    const checkout = await fetch(url("/"));
    expect(checkout.headers.get("content-security-policy")).toContain("https://telegram.org");
  });
});
