#!/usr/bin/env node
// `pnpm dev`: services check → .env (from .env.example on first run) → migrate → seed → every app in watch mode.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const run = (cmd, args) => {
  const result = spawnSync(cmd, args, { cwd: root, stdio: "inherit" });
  if (result.status !== 0) process.exit(result.status ?? 1);
};

if (!existsSync(join(root, ".env"))) {
  copyFileSync(join(root, ".env.example"), join(root, ".env"));
  console.log("dev: created .env from .env.example (local defaults, sandbox ATMOS)");
}
run("bash", ["infra/services.sh"]);
run("pnpm", ["db:migrate"]);
run("pnpm", ["db:seed"]);
// Every app and the ATMOS sandbox run in watch mode; each reads ../../.env itself.
run("pnpm", ["exec", "turbo", "run", "dev", "--concurrency=16", "--ui=stream"]);
