#!/usr/bin/env node
// `pnpm setup` (also turbo's `//#setup` task, which every `dev` task depends on, so a bare
// `pnpm exec turbo dev` on a fresh clone works too): .env from .env.example when missing →
// services check → migrate → seed. Idempotent and non-destructive: an existing .env is never
// touched, migrations apply only what is missing, the seed inserts only missing plans.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const run = (cmd, args) => {
  const result = spawnSync(cmd, args, { cwd: root, stdio: "inherit" });
  if (result.status !== 0) {
    console.error(`setup: \`${cmd} ${args.join(" ")}\` failed (exit ${result.status ?? result.signal})`);
    process.exit(result.status ?? 1);
  }
};

if (!existsSync(join(root, ".env"))) {
  copyFileSync(join(root, ".env.example"), join(root, ".env"));
  console.log("setup: created .env from .env.example (local defaults, sandbox ATMOS)");
}
run("bash", ["infra/services.sh"]);
run("pnpm", ["--silent", "db:migrate"]);
run("pnpm", ["--silent", "db:seed"]);
