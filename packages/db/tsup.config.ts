import { defineConfig } from "tsup";
import { nodeApp } from "../../tooling/build/tsup.mjs";

// The release-time scripts, runnable with plain node: dist/migrate.js finds ../migrations from dist/
// as src/migrate.ts does from src/.
export default defineConfig(
  nodeApp({
    migrate: "scripts/migrate.ts",
    seed: "scripts/seed.ts",
    "rotate-card-key": "scripts/rotate-card-key.ts",
  }),
);
