import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { HonoEnv } from "./context";

/**
 * GET /docs: Swagger UI for the public /openapi.json, served from the installed `swagger-ui-dist`
 * (no CDN: it works offline and loads nothing from another origin). Its files are under /docs/…;
 * the page has no inline script, so its policy allows scripts from this origin only.
 */
const ASSETS = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "favicon-32x32.png": "image/png",
} as const;

const INIT_JS = `window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
});
`;

const HTML = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Obuna gateway API</title>
    <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" />
    <link rel="stylesheet" href="/docs/swagger-ui.css" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/docs/swagger-ui-bundle.js"></script>
    <script src="/docs/init.js"></script>
  </body>
</html>
`;

const POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  // Swagger UI sets style attributes at run time.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join("; ");

function swaggerUiDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve("swagger-ui-dist/package.json"));
}

export function registerDocs(app: OpenAPIHono<HonoEnv>): void {
  const dir = swaggerUiDir();
  // Read on first use, then kept: the bundle is ~1.5 MB and never changes while the process runs.
  const cache = new Map<string, Buffer>();
  const file = (name: string) => {
    let body = cache.get(name);
    if (!body) {
      body = readFileSync(join(dir, name));
      cache.set(name, body);
    }
    return body;
  };

  app.get("/docs", (c) => {
    c.header("Content-Security-Policy", POLICY);
    return c.html(HTML);
  });
  app.get("/docs/init.js", (c) => {
    c.header("Content-Type", ASSETS["swagger-ui-bundle.js"]);
    return c.body(INIT_JS);
  });
  for (const [name, type] of Object.entries(ASSETS)) {
    app.get(`/docs/${name}`, (c) => {
      c.header("Content-Type", type);
      c.header("Cache-Control", "public, max-age=86400");
      return c.body(new Uint8Array(file(name)));
    });
  }
}
