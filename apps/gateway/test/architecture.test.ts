/**
 * What may import what (docs/architecture.md, "Layers"), checked over the source as it is: a rule
 * broken by a new import fails here, not in review. Test code is exempt (it starts sandboxes).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** The places where an app builds its dependencies from env: the only ones that may name an adapter. */
const COMPOSITION_ROOTS = new Set([
  "apps/gateway/src/index.ts",
  "apps/gateway/src/atmos-client.ts",
  "apps/gateway/src/cli/reconcile.ts",
  "apps/renewals/src/index.ts",
]);

interface Rule {
  /** Source folder the rule covers. */
  under: string;
  /** Module specifiers (exact or as a prefix followed by `/`) this code must not import. */
  forbidden: string[];
  /** Files of `under` that may import them anyway. */
  except?: Set<string>;
}

const ADAPTERS = ["@obuna/atmos"];
const APPS = ["@obuna/gateway", "@obuna/bot", "@obuna/renewals", "@obuna/miniapp"];
/** Queries live in packages/db (one file per table) and state changes in packages/billing: no inline SQL in apps. */
const INLINE_SQL = ["drizzle-orm", "@obuna/db/schema"];
const RULES: Rule[] = [
  { under: "apps/gateway/src", forbidden: [...ADAPTERS, ...APPS], except: COMPOSITION_ROOTS },
  { under: "apps/renewals/src", forbidden: [...ADAPTERS, ...APPS], except: COMPOSITION_ROOTS },
  { under: "apps/gateway/src", forbidden: INLINE_SQL },
  // Services answer outcomes (services/outcome.ts); only routes map them to the HTTP error envelope.
  { under: "apps/gateway/src/services", forbidden: ["../errors", "../../errors", "hono"] },
  { under: "apps/renewals/src", forbidden: INLINE_SQL },
  // The bot's notification sender reads what to send from the database; money moves only in the gateway.
  { under: "apps/bot/src", forbidden: [...ADAPTERS, ...APPS, "@obuna/billing"] },
  { under: "apps/miniapp/src", forbidden: [...ADAPTERS, ...APPS, "@obuna/db", "@obuna/billing"] },
  { under: "packages/billing/src", forbidden: [...ADAPTERS, ...APPS, "hono", "bullmq", "grammy"] },
  { under: "packages/db/src", forbidden: [...ADAPTERS, ...APPS, "@obuna/billing"] },
  { under: "packages/provider/src", forbidden: ["@obuna/"] },
  { under: "packages/atmos/src", forbidden: [...APPS, "@obuna/db", "@obuna/billing"] },
  { under: "packages/grammy/src", forbidden: [...ADAPTERS, ...APPS, "@obuna/db", "@obuna/billing"] },
  {
    under: "packages/contracts/src",
    forbidden: ["@obuna/db", "@obuna/billing", "@obuna/provider", "@obuna/grammy", ...ADAPTERS, ...APPS],
  },
];

const IMPORT =
  /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

/** Every module specifier a source text imports or re-exports (static and dynamic). */
export function importsOf(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(IMPORT)) found.push((match[1] ?? match[2])!);
  return found;
}

function matches(specifier: string, forbidden: string): boolean {
  return forbidden.endsWith("/")
    ? specifier.startsWith(forbidden)
    : specifier === forbidden || specifier.startsWith(`${forbidden}/`);
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name === ".next" || name === "dist") continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|tsx|mts|js|mjs)$/.test(name)) out.push(path);
  }
  return out;
}

function violations(rule: Rule, files: Array<{ file: string; text: string }>): string[] {
  const out: string[] = [];
  for (const { file, text } of files) {
    if (rule.except?.has(file)) continue;
    for (const specifier of importsOf(text)) {
      const hit = rule.forbidden.find((f) => matches(specifier, f));
      if (hit) out.push(`${file} imports ${specifier}`);
    }
  }
  return out;
}

describe("import rules (docs/architecture.md)", () => {
  for (const rule of RULES) {
    it(`${rule.under} imports none of ${rule.forbidden.join(", ")}${rule.except ? " outside its composition root" : ""}`, () => {
      const files = sourceFiles(join(ROOT, rule.under)).map((path) => ({
        file: relative(ROOT, path),
        text: readFileSync(path, "utf8"),
      }));
      expect(files.length).toBeGreaterThan(0);
      expect(violations(rule, files)).toEqual([]);
    });
  }

  it("the scanner finds a planted import of each form (static, type-only, re-export, dynamic)", () => {
    const rule = RULES[0]!;
    const planted = [
      { file: "apps/gateway/src/services/x.ts", text: 'import { createAtmosClient } from "@obuna/atmos";' },
      {
        file: "apps/gateway/src/services/y.ts",
        text: 'import type {\n  AtmosClient,\n} from "@obuna/atmos";',
      },
      { file: "apps/gateway/src/services/z.ts", text: "export * from '@obuna/atmos/provider';" },
      { file: "apps/gateway/src/services/w.ts", text: 'const m = await import("@obuna/atmos/sandbox");' },
      // allowed: the composition root, and a package whose name only starts the same way
      {
        file: "apps/gateway/src/index.ts",
        text: 'import { createAtmosProvider } from "@obuna/atmos/provider";',
      },
      { file: "apps/gateway/src/services/v.ts", text: 'import { x } from "@obuna/atmosphere";' },
    ];
    expect(violations(rule, planted)).toEqual([
      "apps/gateway/src/services/x.ts imports @obuna/atmos",
      "apps/gateway/src/services/y.ts imports @obuna/atmos",
      "apps/gateway/src/services/z.ts imports @obuna/atmos/provider",
      "apps/gateway/src/services/w.ts imports @obuna/atmos/sandbox",
    ]);
  });
});
