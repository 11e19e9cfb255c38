import type { NextConfig } from "next";
import { PHASE_DEVELOPMENT_SERVER } from "next/constants";

/**
 * The card number is typed on this page: scripts only from this origin and Telegram's web-app script,
 * requests only to this origin (the gateway is reached through /api/gw), framing only by Telegram Web.
 */
function contentSecurityPolicy(isDev: boolean): string {
  return [
    "default-src 'self'",
    // 'unsafe-inline': the statically prerendered pages carry Turbopack's inline bootstrap script
    // (a nonce would need dynamic rendering); no other origin may serve scripts, and connect-src
    // 'self' keeps a typed card number from being sent anywhere but this origin.
    `script-src 'self' 'unsafe-inline' https://telegram.org${isDev ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self'${isDev ? " ws:" : ""}`,
    "frame-ancestors 'self' https://web.telegram.org https://*.telegram.org",
    "base-uri 'self'",
    "form-action 'self'",
    "object-src 'none'",
  ].join("; ");
}

/**
 * One build serves every environment: the gateway address is read at run time by the
 * `/api/gw/*` proxy (src/env.ts), never baked into the JavaScript.
 */
export default function config(phase: string): NextConfig {
  const isDev = phase === PHASE_DEVELOPMENT_SERVER;
  return {
    reactStrictMode: true,
    // `pnpm dev` serves on 127.0.0.1 (scripts/run-next.mjs); without this Next 16 treats pages opened
    // at http://127.0.0.1:<port> as a foreign origin and blocks their dev resources (HMR, /_next).
    allowedDevOrigins: ["127.0.0.1", "localhost"],
    poweredByHeader: false,
    transpilePackages: ["@obuna/contracts"],
    async headers() {
      return [
        {
          source: "/:path*",
          headers: [
            { key: "X-Content-Type-Options", value: "nosniff" },
            { key: "Referrer-Policy", value: "no-referrer" },
          ],
        },
        {
          // Every page but the admin panel, whose pages get a per-request nonce policy instead
          // (src/pages/_document.tsx: no 'unsafe-inline', no third-party script).
          source: "/((?!admin(?:/|$)).*)",
          headers: [{ key: "Content-Security-Policy", value: contentSecurityPolicy(isDev) }],
        },
      ];
    },
  };
}
