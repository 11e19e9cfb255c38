import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type SignInitDataOptions, signInitData, telegramLaunchFragment } from "@obuna/contracts/testing";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { inject } from "vitest";
import { TEST_SECRETS } from "./secrets";

const ARTIFACTS = join(import.meta.dirname, "../test-artifacts");

/**
 * Stand-in for https://telegram.org/js/telegram-web-app.js (no internet in tests): the same
 * `window.Telegram.WebApp` surface, recording every call in `window.__tgCalls`. Like the real
 * script it takes the launch params from the `#tgWebApp…` fragment, kept in sessionStorage for
 * in-app navigation — unless the client handed it other launch data (`window.__tgClientLaunch`,
 * see `asTelegramClient`), which lets a test tell the two sources apart.
 */
const TELEGRAM_STUB = `
(() => {
  const calls = [];
  window.__tgCalls = calls;
  const record = (name) => (...args) => { calls.push([name, ...args]); };
  const handlers = { main: [], back: [] };
  window.__tgHandlers = handlers;
  const button = (prefix, list) => ({
    setText: record(prefix + ".setText"), show: record(prefix + ".show"), hide: record(prefix + ".hide"),
    enable: record(prefix + ".enable"), disable: record(prefix + ".disable"),
    showProgress: record(prefix + ".showProgress"), hideProgress: record(prefix + ".hideProgress"),
    onClick: (h) => { calls.push([prefix + ".onClick"]); list.push(h); },
    offClick: (h) => { calls.push([prefix + ".offClick"]); const i = list.indexOf(h); if (i >= 0) list.splice(i, 1); },
  });
  let params = {};
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.has("tgWebAppData")) {
    params = Object.fromEntries(hash);
    try { sessionStorage.setItem("__telegram__initParams", JSON.stringify(params)); } catch (e) {}
  } else {
    try { params = JSON.parse(sessionStorage.getItem("__telegram__initParams") || "{}"); } catch (e) {}
  }
  if (window.__tgClientLaunch) params = window.__tgClientLaunch;
  window.Telegram = { WebApp: {
    initData: params.tgWebAppData || "",
    platform: params.tgWebAppPlatform || "unknown",
    version: params.tgWebAppVersion || "6.0",
    colorScheme: "light",
    themeParams: {},
    ready: record("ready"), expand: record("expand"), close: record("close"),
    enableClosingConfirmation: record("enableClosingConfirmation"),
    disableClosingConfirmation: record("disableClosingConfirmation"),
    onEvent: record("onEvent"), offEvent: record("offEvent"),
    MainButton: button("MainButton", handlers.main),
    BackButton: { show: record("BackButton.show"), hide: record("BackButton.hide"),
      onClick: (h) => { calls.push(["BackButton.onClick"]); handlers.back.push(h); },
      offClick: (h) => { const i = handlers.back.indexOf(h); if (i >= 0) handlers.back.splice(i, 1); } },
    HapticFeedback: { notificationOccurred: record("HapticFeedback.notificationOccurred") },
    // The client's invoice sheet: present when the test says how it ends (window.__tgOpenInvoice,
    // url -> status), as a Telegram client calls back with paid / cancelled / failed / pending.
    ...(window.__tgOpenInvoice ? { openInvoice: (url, callback) => {
      calls.push(["openInvoice", url]);
      Promise.resolve(window.__tgOpenInvoice(url)).then((status) => callback && callback(status));
    } } : {}),
  } };
})();
`;

/**
 * What a Telegram client injects into its WebView before the page runs: the native bridge
 * (`window.TelegramWebviewProxy`). A plain browser opening a link has none.
 */
const TELEGRAM_CLIENT_BRIDGE = `
window.TelegramWebviewProxy = { postEvent: (type, data) => (window.__tgBridgeEvents = window.__tgBridgeEvents || []).push([type, data]) };
`;

export const LIGHT_THEME = {
  bg_color: "#ffffff",
  text_color: "#000000",
  hint_color: "#999999",
  link_color: "#2481cc",
  button_color: "#2481cc",
  button_text_color: "#ffffff",
  secondary_bg_color: "#efeff3",
};
export const DARK_THEME = {
  bg_color: "#212d3b",
  text_color: "#ffffff",
  hint_color: "#7d8b99",
  link_color: "#5eabe1",
  button_color: "#50a8eb",
  button_text_color: "#ffffff",
  secondary_bg_color: "#151e27",
};

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** `telegramClient: false`: a plain browser (no Telegram bridge), as when someone opens a link. */
export async function launchBrowser(options: { telegramClient?: boolean } = {}): Promise<Browser> {
  const userDataDir = mkdtempSync(join(tmpdir(), "obuna-miniapp-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    viewport: { width: 390, height: 844 },
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  await context.route("https://telegram.org/**", (route) =>
    route.fulfill({ status: 200, contentType: "application/javascript", body: TELEGRAM_STUB }),
  );
  if (options.telegramClient ?? true) await context.addInitScript({ content: TELEGRAM_CLIENT_BRIDGE });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

let nextTelegramId = 700_000_000 + Math.floor(Math.random() * 1_000_000) * 10;
export function newUser(language_code = "uz"): TestUser {
  nextTelegramId += 1;
  return { id: nextTelegramId, first_name: "Test", language_code };
}

/** What the bot does: ask the gateway for a payment link (internal token). */
export async function createPaymentLink(
  user: TestUser,
  planSlug = "monthly",
): Promise<{ session_id: string; payment_url: string }> {
  const response = await fetch(`${inject("gatewayUrl")}/api/v1/payment/create-link`, {
    method: "POST",
    headers: { authorization: `Bearer ${TEST_SECRETS.internalApiToken}`, "content-type": "application/json" },
    body: JSON.stringify({
      telegram_id: user.id,
      plan_slug: planSlug,
      first_name: user.first_name,
      language_code: user.language_code,
    }),
  });
  const body = (await response.json()) as {
    success: boolean;
    data: { session_id: string; payment_url: string };
  };
  if (!response.ok || !body.success)
    throw new Error(`create-link failed: ${response.status} ${JSON.stringify(body)}`);
  return body.data;
}

export interface TestUser {
  id: number;
  first_name: string;
  language_code: string;
  username?: string;
}

/** initData as a Telegram client signs it for this user (shared signer, with `signature`). */
export function testInitData(user: TestUser, options: SignInitDataOptions = {}): string {
  return signInitData({ ...user, allows_write_to_pm: true }, TEST_SECRETS.botToken, options);
}

/**
 * The URL Telegram opens: our page plus the launch fragment a client appends,
 * `#tgWebAppData=…&tgWebAppVersion=…&tgWebAppPlatform=…&tgWebAppThemeParams=…`.
 * (Platform `unknown` keeps the page's own buttons visible for the tests to click; the MainButton
 * path is covered in ui.test.ts.)
 */
export function launchUrl(
  path: string,
  user: TestUser,
  theme: Record<string, string> = LIGHT_THEME,
  options: SignInitDataOptions = {},
): string {
  return `${inject("miniappUrl")}${path}${launchFragment(testInitData(user, options), theme)}`;
}

export function launchFragment(initData: string, theme: Record<string, string> = LIGHT_THEME): string {
  return telegramLaunchFragment(initData, { version: "8.0", platform: "unknown", themeParams: theme });
}

/**
 * Makes a page behave as a Telegram client that launched the Mini App with `initData` (what the
 * client hands Telegram.WebApp), whatever fragment the URL carries.
 */
export async function asTelegramClient(page: Page, initData: string): Promise<void> {
  const launch = { tgWebAppData: initData, tgWebAppVersion: "8.0", tgWebAppPlatform: "unknown" };
  await page.addInitScript((value) => {
    (window as unknown as { __tgClientLaunch: unknown }).__tgClientLaunch = value;
  }, launch);
}

/** Saves `test-artifacts/<test>/<nn>-<step>.png`. */
export function screenshotter(page: Page, testName: string) {
  const dir = join(ARTIFACTS, testName.replace(/[^a-z0-9-]+/gi, "-").toLowerCase());
  mkdirSync(dir, { recursive: true });
  let n = 0;
  return async (step: string) => {
    n += 1;
    await page.screenshot({ path: join(dir, `${String(n).padStart(2, "0")}-${step}.png`), fullPage: true });
  };
}

export async function telegramCalls(page: Page): Promise<string[][]> {
  return page.evaluate(() => (window as unknown as { __tgCalls: string[][] }).__tgCalls);
}

/** A fresh tab: the language a previous test picked (localStorage) is forgotten on its first load. */
export async function newPage(browser: Browser): Promise<Page> {
  const page = await browser.context.newPage();
  await page.addInitScript(() => {
    if (!sessionStorage.getItem("__fresh_tab")) {
      localStorage.clear();
      sessionStorage.setItem("__fresh_tab", "1");
    }
  });
  return page;
}

/** Console errors and uncaught exceptions of a page (CSP violations, hydration errors…). */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(error.message));
  return errors;
}
