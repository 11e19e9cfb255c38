import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp, bundleImportProblems, startBuilt, startCommand } from "../../../tooling/build/smoke";
import { dropDatabase, testDatabaseUrl } from "../src/testing/index";

/** The release step `pnpm --filter @obuna/db migrate` (then `seed`) from dist/, on plain node. */
const packageDir = fileURLToPath(new URL("..", import.meta.url));
const url = testDatabaseUrl("db_built");

beforeAll(async () => {
  buildApp(packageDir);
  await dropDatabase(url);
}, 120_000);
afterAll(async () => {
  await dropDatabase(url);
});

describe("the built db scripts (dist/)", () => {
  it("import only Node built-ins and the package's dependencies", () => {
    expect(bundleImportProblems(packageDir)).toEqual([]);
  });

  it("`migrate` creates and migrates an empty database from dist/ (finding the committed migrations), `seed` adds the plans", async () => {
    const env = { NODE_ENV: "production", DATABASE_URL: url };
    const migrate = await startBuilt(
      packageDir,
      startCommand(packageDir, "migrate"),
      env,
      /migrated database/,
    );
    expect(await migrate.exited).toBe(0);
    expect(migrate.output()).toContain("created and migrated");
    const seed = await startBuilt(packageDir, startCommand(packageDir, "seed"), env, /plan\(s\) inserted/);
    expect(await seed.exited).toBe(0);
    const sql = postgres(url, { max: 1 });
    try {
      const plans = await sql<{ slug: string }[]>`select slug from plans order by slug`;
      expect(plans.map((p) => p.slug)).toEqual(["monthly", "quarterly", "yearly"]);
    } finally {
      await sql.end();
    }
  });
});
