import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "./harness";

/**
 * /docs works without internet: Swagger UI comes from the installed swagger-ui-dist, served by the
 * gateway itself. /openapi.json shares its schemas as components instead of inlining them.
 */
let h: Harness;
beforeAll(async () => {
  h = await startHarness({}, { resetData: false });
});
afterAll(async () => {
  await h?.close();
});

/**
 * Budget from the measurement (docs/gateway.md): 204 672 bytes inlined, 46 943 with components; the
 * endpoints added since (cards, the four /api/v1/stars/* of Telegram Stars) bring it to 66 714.
 * Inlining the shared schemas again would triple it: that is what this budget catches.
 */
const PUBLIC_SPEC_BUDGET_BYTES = 80 * 1024;

describe("/docs", () => {
  it("references only same-origin assets, and each is served with its content type", async () => {
    const page = await h.app.request("/docs");
    expect(page.status).toBe(200);
    const html = await page.text();
    const csp = page.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("http");
    const refs = [...html.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThanOrEqual(3);
    // No CDN, no other origin, no inline script.
    for (const ref of refs) expect(ref, ref).toMatch(/^\/docs\/[\w.-]+$/);
    expect(html).not.toMatch(/<script>(?!<\/script>)/);
    const types: Record<string, RegExp> = { ".js": /javascript/, ".css": /text\/css/, ".png": /image\/png/ };
    for (const ref of refs) {
      const asset = await h.app.request(ref);
      expect(asset.status, ref).toBe(200);
      const type = types[ref.slice(ref.lastIndexOf("."))]!;
      expect(asset.headers.get("content-type"), ref).toMatch(type);
      expect((await asset.arrayBuffer()).byteLength, ref).toBeGreaterThan(0);
    }
    const bundle = await (await h.app.request("/docs/swagger-ui-bundle.js")).text();
    expect(bundle).toContain("SwaggerUIBundle");
    const init = await (await h.app.request("/docs/init.js")).text();
    expect(init).toContain('url: "/openapi.json"');
  });

  it("serves nothing else from the package folder", async () => {
    for (const path of [
      "/docs/package.json",
      "/docs/../package.json",
      "/docs/index.html",
      "/docs/%2e%2e/app.ts",
    ]) {
      expect((await h.app.request(path)).status, path).toBe(404);
    }
  });
});

describe("/openapi.json", () => {
  it("uses $ref components for the shared schemas and stays under its size budget", async () => {
    const res = await h.app.request("/openapi.json");
    const text = await res.text();
    expect(text.length).toBeLessThan(PUBLIC_SPEC_BUDGET_BYTES);
    const spec = JSON.parse(text);
    expect(Object.keys(spec.components.schemas)).toEqual(
      expect.arrayContaining(["ErrorEnvelope", "ErrorCode", "PlanSummary", "Language", "PlanSlug"]),
    );
    // The error envelope is written once: every error response points at it.
    expect(text.split('"VALIDATION_ERROR"').length - 1).toBe(1);
    const createLink = spec.paths["/api/v1/payment/create-link"].post;
    expect(createLink.responses["400"].content["application/json"].schema).toEqual({
      $ref: "#/components/schemas/ErrorEnvelope",
    });
    // Every component it carries is referenced, and every reference resolves.
    const refs = new Set([...text.matchAll(/"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!));
    for (const ref of refs) expect(spec.components.schemas[ref], ref).toBeDefined();
    for (const name of Object.keys(spec.components.schemas)) expect(refs.has(name), name).toBe(true);
  });

  it("the full (admin) document carries the same components", async () => {
    const spec = h.app.getOpenAPIDocument({ openapi: "3.0.3", info: { title: "all", version: "1" } });
    const text = JSON.stringify(spec);
    expect(text.split('"VALIDATION_ERROR"').length - 1).toBe(1);
    expect(text.length).toBeLessThan(160 * 1024);
  });
});
