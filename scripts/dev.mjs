#!/usr/bin/env node
// `pnpm dev`: every app and the ATMOS sandbox in watch mode through `turbo run dev`, whose
// `//#dev:setup` task first runs scripts/setup.mjs (.env from .env.example on first run → services
// check → migrate → seed). Ctrl-C stops everything and exits 0.
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const turbo = join(root, "node_modules/.bin/turbo");
const child = spawn(turbo, ["run", "dev", "--concurrency=16", "--ui=stream", ...process.argv.slice(2)], {
  cwd: root,
  stdio: "inherit",
});
// Ctrl-C reaches turbo directly (same process group): forwarding it would be turbo's second Ctrl-C,
// which kills the apps before they have shut down. SIGTERM, sent to one pid, is forwarded.
let stopping = false;
process.on("SIGINT", () => {
  stopping = true;
});
process.on("SIGTERM", () => {
  if (!stopping) child.kill("SIGTERM");
  stopping = true;
});
child.on("exit", (code) => process.exit(stopping ? 0 : (code ?? 1)));
