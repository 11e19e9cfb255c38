#!/usr/bin/env node
// The `dev` script of the tsx apps (gateway, bot, renewals, ATMOS sandbox), run from the app's folder:
//   exec node ../../scripts/watch-app.mjs src/index.ts
// = `tsx watch` that also restarts the app when the repository's .env changes (each restart reads it
// again), and exits 0 when stopped with Ctrl-C so `pnpm dev` / `turbo dev` print no failure lines.
//
// Signals: Ctrl-C (and turbo, which signals each task's process group) deliver SIGINT to this process,
// tsx and the app at once, so SIGINT is not forwarded (a second SIGINT makes tsx SIGKILL the app
// before it has shut down). SIGTERM, which process managers send to one pid, is forwarded.
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const envFile = join(dirname(fileURLToPath(import.meta.url)), "../.env");
const child = spawn(
  "tsx",
  [
    "watch",
    "--clear-screen=false",
    "--include",
    envFile,
    `--env-file-if-exists=${envFile}`,
    ...process.argv.slice(2),
  ],
  { stdio: "inherit" },
);
let stopping = false;
process.on("SIGINT", () => {
  stopping = true;
});
process.on("SIGTERM", () => {
  if (!stopping) child.kill("SIGTERM");
  stopping = true;
});
child.on("exit", (code, signal) => process.exit(stopping ? 0 : (code ?? (signal ? 1 : 0))));
