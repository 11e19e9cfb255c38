import Head from "next/head";
import type { ReactNode } from "react";
import { LANGUAGE_NAMES, LANGUAGES } from "../lib/i18n";
import { useLaunch } from "../lib/launch-context";

export function AppShell({ title, children }: { title: string; children: ReactNode }) {
  const { t, lang, setLang, devMode, telegramId, ready } = useLaunch();
  return (
    <>
      <Head>
        <title>{title}</title>
      </Head>
      <main className="mx-auto flex min-h-dvh max-w-md flex-col gap-4 p-4">
        <header className="flex items-center justify-between gap-2">
          <h1 className="text-lg font-semibold">{title}</h1>
          <nav aria-label={t("app.language")} className="flex gap-1">
            {LANGUAGES.map((code) => (
              <button
                key={code}
                type="button"
                lang={code}
                aria-pressed={lang === code}
                aria-label={LANGUAGE_NAMES[code]}
                onClick={() => setLang(code)}
                className={`rounded-lg px-2 py-1 text-xs font-semibold uppercase ${lang === code ? "bg-tg-button text-tg-button-text" : "text-tg-hint"}`}
              >
                {code}
              </button>
            ))}
          </nav>
        </header>
        {devMode && (
          <p
            role="note"
            data-testid="dev-notice"
            className="rounded-xl border border-dashed border-tg-destructive p-3 text-sm"
          >
            {t("app.dev_notice", { id: telegramId ?? "?" })}
          </p>
        )}
        {ready ? children : <p className="text-tg-hint">{t("app.loading")}</p>}
      </main>
    </>
  );
}
