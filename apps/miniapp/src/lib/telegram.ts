/**
 * Telegram Mini App launch parameters and the optional `window.Telegram.WebApp` API.
 *
 * Whose account is paying comes ONLY from `Telegram.WebApp.initData`, and only inside a Telegram
 * client (its native bridge is present). This file never reads `tgWebAppData` from the URL
 * fragment itself and keeps no copy of it: a link such as `/?session_id=S#tgWebAppData=<someone
 * else's initData>` opened in a browser must not sign the visitor in as that someone.
 * The fragment is read only for the theme colours. initData is parsed here only for the language,
 * the user id in URLs and the "paying as" line: the gateway verifies it.
 */

export interface LaunchUser {
  id: number;
  first_name?: string;
  last_name?: string;
  username?: string;
  language_code?: string;
}

export interface ThemeParams {
  bg_color?: string;
  text_color?: string;
  hint_color?: string;
  link_color?: string;
  button_color?: string;
  button_text_color?: string;
  secondary_bg_color?: string;
  destructive_text_color?: string;
  section_bg_color?: string;
}

export interface LaunchParams {
  initData: string | null;
  user: LaunchUser | null;
  themeParams: ThemeParams | null;
}

export function parseInitDataUser(initData: string | null | undefined): LaunchUser | null {
  if (!initData) return null;
  try {
    const user = JSON.parse(new URLSearchParams(initData).get("user") ?? "null") as LaunchUser | null;
    return user && Number.isSafeInteger(user.id) && user.id > 0 ? user : null;
  } catch {
    return null;
  }
}

function parseTheme(raw: string | null): ThemeParams | null {
  if (!raw) return null;
  try {
    const theme = JSON.parse(raw) as unknown;
    return theme && typeof theme === "object" ? (theme as ThemeParams) : null;
  } catch {
    return null;
  }
}

/** Theme colours from the launch fragment (harmless: colours only, never who is signed in). */
export function parseLaunchTheme(hash: string): ThemeParams | null {
  return parseTheme(new URLSearchParams(hash.replace(/^#/, "")).get("tgWebAppThemeParams"));
}

const TELEGRAM_ORIGIN = /^https:\/\/([a-z0-9-]+\.)*telegram\.org$/;

/**
 * True inside a Telegram client: the client injects its bridge (`TelegramWebviewProxy` on iOS,
 * Android and Desktop; `external.notify` on older Windows clients) or frames the page in
 * web.telegram.org. A plain browser opening a link has none of these, whatever the fragment says
 * (`tgWebAppPlatform` is just text in the URL).
 */
export function telegramBridgePresent(): boolean {
  if (typeof window === "undefined") return false;
  const w = window as Window & {
    TelegramWebviewProxy?: { postEvent?: unknown };
    external?: { notify?: unknown };
  };
  if (typeof w.TelegramWebviewProxy?.postEvent === "function") return true;
  if (w.external && typeof w.external.notify === "function") return true;
  if (window.parent !== window) {
    const ancestors = window.location.ancestorOrigins;
    if (ancestors && ancestors.length > 0) return TELEGRAM_ORIGIN.test(ancestors[0]!);
    try {
      return TELEGRAM_ORIGIN.test(new URL(document.referrer).origin);
    } catch {
      return false;
    }
  }
  return false;
}

/** Inside Telegram: `Telegram.WebApp.initData`. Anywhere else: no Telegram identity at all. */
export function readLaunchParams(): LaunchParams {
  const themeFromHash = parseLaunchTheme(window.location.hash);
  const webApp = telegramWebApp();
  if (!webApp || !telegramBridgePresent()) return { initData: null, user: null, themeParams: themeFromHash };
  const initData = webApp.initData || null;
  const user = parseInitDataUser(initData);
  return {
    initData: initData && user ? initData : null,
    user,
    themeParams:
      webApp.themeParams && Object.keys(webApp.themeParams).length > 0 ? webApp.themeParams : themeFromHash,
  };
}

/** "Ali Valiyev (@ali, id 123)": the account a payment goes to, as the checkout shows it. */
export function describeTelegramUser(user: LaunchUser): string {
  const name = [user.first_name, user.last_name].filter(Boolean).join(" ");
  const handle = [user.username ? `@${user.username}` : null, `id ${user.id}`].filter(Boolean).join(", ");
  return name ? `${name} (${handle})` : handle;
}

/** `?dev_user=<telegram_id>`: only for a plain browser against a gateway with its dev switch on. */
export function devTelegramId(): number | null {
  const value = new URLSearchParams(window.location.search).get("dev_user");
  return value && /^\d{1,15}$/.test(value) ? Number(value) : null;
}

// ------------------------------------------------------------------ theme

const THEME_VARS: Array<[keyof ThemeParams, string]> = [
  ["bg_color", "--tg-bg"],
  ["text_color", "--tg-text"],
  ["hint_color", "--tg-hint"],
  ["link_color", "--tg-link"],
  ["button_color", "--tg-button"],
  ["button_text_color", "--tg-button-text"],
  ["secondary_bg_color", "--tg-secondary-bg"],
  ["destructive_text_color", "--tg-destructive"],
];

function isDark(hex: string): boolean {
  const match = /^#?([0-9a-f]{6})$/i.exec(hex.trim());
  if (!match) return false;
  const value = Number.parseInt(match[1]!, 16);
  const [r, g, b] = [(value >> 16) & 255, (value >> 8) & 255, value & 255];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b < 128;
}

/** Telegram's colours as CSS variables; `data-theme` picks the matching light/dark fallbacks. */
export function applyTheme(theme: ThemeParams | null, colorScheme?: "light" | "dark"): void {
  const root = document.documentElement;
  for (const [key, cssVar] of THEME_VARS) {
    const value = theme?.[key];
    if (value && /^#[0-9a-f]{3,8}$/i.test(value)) root.style.setProperty(cssVar, value);
    else root.style.removeProperty(cssVar);
  }
  const scheme = theme?.bg_color ? (isDark(theme.bg_color) ? "dark" : "light") : colorScheme;
  if (scheme) root.dataset.theme = scheme;
  else delete root.dataset.theme;
}

// ------------------------------------------------------------------ WebApp API (all optional)

interface BottomButton {
  setText(text: string): void;
  show(): void;
  hide(): void;
  enable(): void;
  disable(): void;
  showProgress(leaveActive?: boolean): void;
  hideProgress(): void;
  onClick(handler: () => void): void;
  offClick(handler: () => void): void;
}

export interface TelegramWebApp {
  initData?: string;
  platform?: string;
  colorScheme?: "light" | "dark";
  themeParams?: ThemeParams;
  ready?(): void;
  expand?(): void;
  close?(): void;
  enableClosingConfirmation?(): void;
  disableClosingConfirmation?(): void;
  onEvent?(event: string, handler: () => void): void;
  offEvent?(event: string, handler: () => void): void;
  MainButton?: BottomButton;
  BackButton?: {
    show(): void;
    hide(): void;
    onClick(handler: () => void): void;
    offClick(handler: () => void): void;
  };
  HapticFeedback?: { notificationOccurred(type: "error" | "success" | "warning"): void };
  /** Opens an invoice link (Telegram Stars); the client calls back with how it ended (Bot API 6.1+). */
  openInvoice?(url: string, callback?: (status: InvoiceStatus) => void): void;
}

/** How an invoice opened with `openInvoice` ended, as the Telegram client reports it. */
export type InvoiceStatus = "paid" | "cancelled" | "failed" | "pending";

/**
 * Opens a Stars invoice inside Telegram and resolves with the client's status. A client without
 * openInvoice (or one that throws) is `failed`: nothing was charged.
 */
export function openInvoice(url: string): Promise<InvoiceStatus> {
  const webApp = telegramWebApp();
  return new Promise((resolve) => {
    if (typeof webApp?.openInvoice !== "function") return resolve("failed");
    try {
      webApp.openInvoice(url, (status) => resolve(status));
    } catch {
      resolve("failed");
    }
  });
}

declare global {
  interface Window {
    Telegram?: { WebApp?: TelegramWebApp };
  }
}

export function telegramWebApp(): TelegramWebApp | undefined {
  return typeof window === "undefined" ? undefined : window.Telegram?.WebApp;
}

/**
 * A Telegram client that shows its own MainButton (so the page hides its submit buttons). For the
 * UI only: who is signed in is decided by {@link readLaunchParams} (the client's bridge).
 */
export function insideTelegram(): boolean {
  const platform = telegramWebApp()?.platform;
  return Boolean(platform && platform !== "unknown");
}

export function haptic(type: "error" | "success" | "warning"): void {
  try {
    telegramWebApp()?.HapticFeedback?.notificationOccurred(type);
  } catch {}
}

export function setClosingConfirmation(on: boolean): void {
  const webApp = telegramWebApp();
  try {
    if (on) webApp?.enableClosingConfirmation?.();
    else webApp?.disableClosingConfirmation?.();
  } catch {}
}
