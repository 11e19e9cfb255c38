/**
 * Telegram Mini App launch parameters and the optional `window.Telegram.WebApp` API.
 * Launch params come from the `#tgWebAppData=…&tgWebAppThemeParams=…` fragment Telegram appends;
 * they are kept in sessionStorage because in-app navigation drops the fragment.
 * initData is parsed here only to pick the language and the user id for URLs: the gateway verifies it.
 */

export interface LaunchUser {
  id: number;
  first_name?: string;
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

const STORAGE_KEY = "obuna.launch";

function parseUser(raw: string | null): LaunchUser | null {
  if (!raw) return null;
  try {
    const user = JSON.parse(raw) as LaunchUser;
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

export function parseLaunchHash(hash: string): LaunchParams {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const initData = params.get("tgWebAppData");
  const user = initData ? parseUser(new URLSearchParams(initData).get("user")) : null;
  return {
    initData: initData && user ? initData : null,
    user,
    themeParams: parseTheme(params.get("tgWebAppThemeParams")),
  };
}

/** Fragment first, then what this tab stored, then Telegram's own script (if it loaded). */
export function readLaunchParams(): LaunchParams {
  const fromHash = parseLaunchHash(window.location.hash);
  if (fromHash.initData) {
    try {
      window.sessionStorage.setItem(STORAGE_KEY, window.location.hash);
    } catch {}
    return fromHash;
  }
  let stored: LaunchParams | null = null;
  try {
    const hash = window.sessionStorage.getItem(STORAGE_KEY);
    if (hash) stored = parseLaunchHash(hash);
  } catch {}
  if (stored?.initData) return { ...stored, themeParams: fromHash.themeParams ?? stored.themeParams };
  const webApp = telegramWebApp();
  if (webApp?.initData) {
    return {
      initData: webApp.initData,
      user: parseUser(new URLSearchParams(webApp.initData).get("user")),
      themeParams: webApp.themeParams ?? fromHash.themeParams,
    };
  }
  return fromHash;
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
}

declare global {
  interface Window {
    Telegram?: { WebApp?: TelegramWebApp };
  }
}

export function telegramWebApp(): TelegramWebApp | undefined {
  return typeof window === "undefined" ? undefined : window.Telegram?.WebApp;
}

/** Inside a real Telegram client (not a browser that merely loaded the script). */
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
