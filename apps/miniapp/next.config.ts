import type { NextConfig } from "next";

/**
 * One build serves every environment: the gateway address is read at run time by the
 * `/api/gw/*` proxy (src/env.ts), never baked into the JavaScript.
 */
const config: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  transpilePackages: ["@obuna/contracts"],
  // The proxy and pages are served by `next start`; the repo's own tsc/biome checks run separately.
  typescript: { ignoreBuildErrors: false },
  async headers() {
    return [
      {
        source: "/:path*",
        headers: [
          { key: "X-Content-Type-Options", value: "nosniff" },
          { key: "Referrer-Policy", value: "no-referrer" },
        ],
      },
    ];
  },
};

export default config;
