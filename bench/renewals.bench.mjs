#!/usr/bin/env node
// `pnpm bench renewals`: the renewals benchmark. Its TypeScript lives in apps/renewals/bench and runs
// with the app's own tsx and dependencies (the root has no tsx), so this entry just hands over.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const app = join(dirname(fileURLToPath(import.meta.url)), "..", "apps", "renewals");
const result = spawnSync("pnpm", ["exec", "tsx", "bench/main.ts"], { cwd: app, stdio: "inherit" });
process.exit(result.status ?? 1);
