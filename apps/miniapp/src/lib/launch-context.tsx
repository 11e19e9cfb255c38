import {
  createContext,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
} from "react";
import { callGateway, type GatewayAuth } from "./gateway-client";
import { LANGUAGES, type Language, pickLanguage, type Translate, translator } from "./i18n";
import { applyTheme, devTelegramId, type LaunchUser, readLaunchParams, telegramWebApp } from "./telegram";

export interface Launch {
  /** False until the launch params were read in the browser (the server render knows nothing). */
  ready: boolean;
  auth: GatewayAuth | null;
  telegramId: number | null;
  /** The Telegram account signed in (from Telegram.WebApp.initData; only the id in dev mode). */
  user: LaunchUser | null;
  /** Opened in a plain browser with `?dev_user=`: the gateway must allow `tma dev:<id>`. */
  devMode: boolean;
  lang: Language;
  /** The user picked a language on this page: shown now and stored as their language (bot too). */
  setLang(lang: Language): void;
  /**
   * The user's language as the gateway knows it (chosen in the bot): it wins over Telegram's
   * language_code and this browser's last pick, unless the user picks one on this page.
   */
  adoptUserLanguage(lang: Language | null | undefined): void;
  t: Translate;
}

const LANG_KEY = "obuna.lang";
const LaunchContext = createContext<Launch | null>(null);

export function LaunchProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<Pick<Launch, "ready" | "auth" | "telegramId" | "user" | "devMode">>({
    ready: false,
    auth: null,
    telegramId: null,
    user: null,
    devMode: false,
  });
  const [lang, setLangState] = useState<Language>("uz");
  const pickedHere = useRef(false);

  useEffect(() => {
    const launch = readLaunchParams();
    const webApp = telegramWebApp();
    applyTheme(launch.themeParams, webApp?.colorScheme);
    try {
      webApp?.ready?.();
      webApp?.expand?.();
    } catch {}
    let saved: string | null = null;
    try {
      saved = window.localStorage.getItem(LANG_KEY);
    } catch {}
    setLangState(
      saved && (LANGUAGES as readonly string[]).includes(saved)
        ? (saved as Language)
        : pickLanguage(launch.user?.language_code ?? navigator.language),
    );
    if (launch.initData && launch.user) {
      setState({
        ready: true,
        auth: { token: launch.initData },
        telegramId: launch.user.id,
        user: launch.user,
        devMode: false,
      });
    } else {
      const devId = devTelegramId();
      setState({
        ready: true,
        auth: devId ? { token: `dev:${devId}` } : null,
        telegramId: devId,
        user: devId ? { id: devId } : null,
        devMode: devId !== null,
      });
    }
    const onTheme = () => applyTheme(telegramWebApp()?.themeParams ?? null, telegramWebApp()?.colorScheme);
    webApp?.onEvent?.("themeChanged", onTheme);
    return () => webApp?.offEvent?.("themeChanged", onTheme);
  }, []);

  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);

  const setLang = useCallback(
    (next: Language) => {
      pickedHere.current = true;
      setLangState(next);
      try {
        window.localStorage.setItem(LANG_KEY, next);
      } catch {}
      // One language per user: the pick becomes the user's language for the bot too (best effort).
      if (state.auth && state.telegramId) {
        void callGateway(state.auth, "PUT", `user/${state.telegramId}/language`, {
          body: { language: next },
        });
      }
    },
    [state.auth, state.telegramId],
  );

  const adoptUserLanguage = useCallback((chosen: Language | null | undefined) => {
    if (!chosen || pickedHere.current || !(LANGUAGES as readonly string[]).includes(chosen)) return;
    setLangState(chosen);
  }, []);

  const value = useMemo<Launch>(
    () => ({ ...state, lang, setLang, adoptUserLanguage, t: translator(lang) }),
    [state, lang, setLang, adoptUserLanguage],
  );
  return <LaunchContext.Provider value={value}>{children}</LaunchContext.Provider>;
}

export function useLaunch(): Launch {
  const launch = useContext(LaunchContext);
  if (!launch) throw new Error("useLaunch outside LaunchProvider");
  return launch;
}
