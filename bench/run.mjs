#!/usr/bin/env node
// `pnpm bench`: runs every bench/*.bench.mjs (or .ts through tsx) in turn; each prints its own table.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv[2];
const benches = readdirSync(here)
  .filter((f) => /\.bench\.(mjs|ts)$/.test(f))
  .filter((f) => !only || f.includes(only))
  .sort();
if (benches.length === 0) {
  console.log("no benchmarks yet");
  process.exit(0);
}
let failed = 0;
for (const file of benches) {
  console.log(`\n=== bench/${file}`);
  const args = file.endsWith(".ts") ? ["exec", "tsx", join(here, file)] : ["exec", "node", join(here, file)];
  const result = spawnSync("pnpm", args, { stdio: "inherit", cwd: join(here, "..") });
  if (result.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
