import { readFileSync } from "node:fs";
import { ERROR_CODES, ERROR_STATUS } from "@obuna/contracts/errors";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, type Harness, startHarness } from "./harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({}, { resetData: false });
});
afterAll(async () => {
  await h?.close();
});

describe("documented contract = runtime", () => {
  it("docs/errors.md lists every error code with its HTTP status", () => {
    const doc = readFileSync(new URL("../../../docs/errors.md", import.meta.url), "utf8");
    for (const code of ERROR_CODES) {
      const row = new RegExp(`\\|\\s*\`${code}\`\\s*\\|\\s*(\\d{3})\\s*\\|`).exec(doc);
      expect(row, code).not.toBeNull();
      expect(Number(row![1]), code).toBe(ERROR_STATUS[code]);
    }
  });

  it("every /api route in openapi.json documents the error envelope for its error statuses", async () => {
    // The whole spec: the public /openapi.json leaves the admin API out (it is served to admins only).
    const publicSpec = (await call(h, "GET", "/openapi.json")).body;
    const spec = h.app.getOpenAPIDocument({
      openapi: "3.0.3",
      info: { title: "all", version: "1" },
    }) as unknown as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
      components: { securitySchemes: Record<string, unknown> };
    };
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(Object.keys(publicSpec.paths)));
    expect(Object.keys(spec.paths).some((path) => path.startsWith("/api/v1/admin/"))).toBe(true);
    // METHOD_NOT_ALLOWED is reserved (unknown method/route pairs answer NOT_FOUND).
    const statuses = new Set(
      Object.entries(ERROR_STATUS)
        .filter(([code]) => code !== "METHOD_NOT_ALLOWED")
        .map(([, status]) => String(status)),
    );
    type Operation = { responses: Record<string, unknown>; deprecated?: boolean; "x-alias-of"?: string };
    const paths = spec.paths as Record<string, Record<string, Operation>>;
    for (const [path, item] of Object.entries(paths)) {
      for (const [method, declared] of Object.entries(item)) {
        // A deprecated alias (/api/v1/atmos/*) answers exactly as the path it names, whose entry is checked.
        const alias = declared["x-alias-of"];
        if (alias !== undefined) expect(declared.deprecated, path).toBe(true);
        const documented = alias === undefined ? path : alias;
        const operation = paths[documented]?.[method];
        expect(operation, `${path} → ${documented}`).toBeDefined();
        expect(operation!["x-alias-of"], `${documented} is itself an alias`).toBeUndefined();
        // The provider callback answers in the provider's own reply shape, not our envelope.
        if (documented === "/api/v1/checkout/callback") continue;
        for (const status of statuses)
          expect(operation!.responses[status], `${path} ${status}`).toBeDefined();
      }
    }
    expect(spec.components.securitySchemes).toHaveProperty("internalToken");
    expect(spec.components.securitySchemes).toHaveProperty("telegramInitData");
  });
});
