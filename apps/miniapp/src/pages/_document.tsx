import { randomBytes } from "node:crypto";
import Document, {
  type DocumentContext,
  type DocumentInitialProps,
  Head,
  Html,
  Main,
  NextScript,
} from "next/document";

/** Telegram's own web-app script, loaded before the app as Telegram recommends. Every use is guarded. */
const TELEGRAM_WEB_APP_SCRIPT = "https://telegram.org/js/telegram-web-app.js?59";

/** The operator panel: server-rendered on every request, so it can carry a per-request CSP nonce. */
export function isAdminPage(pathname: string): boolean {
  return pathname === "/admin" || pathname.startsWith("/admin/");
}

/**
 * The admin pages' policy: scripts only with this response's nonce (and what they load, through
 * 'strict-dynamic'), no third-party origin anywhere, no inline script without the nonce. next.config
 * leaves /admin out of the Mini App's policy (which allows Telegram's script and inline scripts).
 */
export function adminContentSecurityPolicy(nonce: string, isDev: boolean): string {
  return [
    "default-src 'self'",
    `script-src 'nonce-${nonce}' 'strict-dynamic'${isDev ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self'${isDev ? " ws:" : ""}`,
    // The panel may be opened as a Mini App inside Telegram Web (framing only; nothing is loaded from there).
    "frame-ancestors 'self' https://web.telegram.org https://*.telegram.org",
    "base-uri 'none'",
    "form-action 'self'",
    "object-src 'none'",
  ].join("; ");
}

interface AppDocumentProps extends DocumentInitialProps {
  admin: boolean;
  nonce?: string;
}

export default function AppDocument({ admin, nonce }: AppDocumentProps) {
  return (
    <Html lang="uz">
      <Head nonce={nonce}>
        <meta name="color-scheme" content="light dark" />
        {/* Admin pages load no third-party script; the login page reads initData from the launch URL. */}
        {!admin && <script src={TELEGRAM_WEB_APP_SCRIPT} />}
      </Head>
      <body className="antialiased">
        <Main />
        <NextScript nonce={nonce} />
      </body>
    </Html>
  );
}

AppDocument.getInitialProps = async (ctx: DocumentContext): Promise<AppDocumentProps> => {
  const initial = await Document.getInitialProps(ctx);
  if (!isAdminPage(ctx.pathname)) return { ...initial, admin: false };
  const nonce = randomBytes(18).toString("base64");
  // biome-ignore lint/style/noProcessEnv: Next's own build-time mode switch, not configuration.
  const isDev = process.env.NODE_ENV === "development";
  ctx.res?.setHeader("content-security-policy", adminContentSecurityPolicy(nonce, isDev));
  return { ...initial, admin: true, nonce };
};
