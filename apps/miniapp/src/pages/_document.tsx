import { Head, Html, Main, NextScript } from "next/document";

/** Telegram's own web-app script, loaded before the app as Telegram recommends. Every use is guarded. */
const TELEGRAM_WEB_APP_SCRIPT = "https://telegram.org/js/telegram-web-app.js?59";

export default function Document() {
  return (
    <Html lang="uz">
      <Head>
        <meta name="color-scheme" content="light dark" />
        <script src={TELEGRAM_WEB_APP_SCRIPT} />
      </Head>
      <body className="antialiased">
        <Main />
        <NextScript />
      </body>
    </Html>
  );
}
