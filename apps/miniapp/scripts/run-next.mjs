/**
 * `next start` / `next dev` on MINIAPP_PORT. The Next process gets only the Mini App's own variables
 * (GATEWAY_URL, GATEWAY_TIMEOUT_MS, MINIAPP_PORT; from the environment, else from the repo's .env)
 * and what Node needs — never the other apps' secrets that the shared .env holds
 * (scripts/miniapp-env.mjs). GATEWAY_URL is read by the server at run time, so one build serves every
 * environment.   usage: node scripts/run-next.mjs start|dev [--env-file <path>]
 * `dev` listens on 127.0.0.1 only and restarts Next when the .env file changes (like the other apps'
 * `tsx watch --include ../../.env`). SIGINT/SIGTERM stop Next and exit 0 (Ctrl-C in `pnpm dev`).
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, watch } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { parseEnv } from "node:util";
import { miniappDir } from "./ensure-build.mjs";
import { miniappProcessEnv } from "./miniapp-env.mjs";

const mode = process.argv[2] === "dev" ? "dev" : "start";
const flag = process.argv.indexOf("--env-file");
const envFile =
  flag > 0 && process.argv[flag + 1] ? resolve(process.argv[flag + 1]) : join(miniappDir, "../../.env");

let child;
let stopping = false;
let restarting = false;

function startNext() {
  const fromFile = existsSync(envFile) ? parseEnv(readFileSync(envFile, "utf8")) : {};
  const env = miniappProcessEnv(process.env, fromFile);
  const port = env.MINIAPP_PORT || "8050";
  const host = mode === "dev" ? ["-H", "127.0.0.1"] : [];
  child = spawn(
    process.execPath,
    [join(miniappDir, "node_modules/next/dist/bin/next"), mode, "-p", port, ...host],
    { cwd: miniappDir, stdio: "inherit", env },
  );
  child.on("exit", (code, signal) => {
    if (restarting && !stopping) {
      restarting = false;
      startNext();
      return;
    }
    process.exit(stopping ? 0 : (code ?? (signal ? 1 : 0)));
  });
}

// Ctrl-C (and turbo, which signals a task's process group) delivers SIGINT to Next too; a process
// manager's SIGTERM reaches only this pid and is forwarded.
process.on("SIGINT", () => {
  if (!stopping && mode === "start") child.kill("SIGINT");
  stopping = true;
});
process.on("SIGTERM", () => {
  if (!stopping) child.kill("SIGTERM");
  stopping = true;
});

if (mode === "dev") {
  // Watch the folder, not the file: editors replace .env by renaming a new file over it.
  let timer;
  watch(dirname(envFile), (_event, name) => {
    if (name !== basename(envFile) || stopping) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (stopping || restarting) return;
      console.log(`[run-next] ${basename(envFile)} changed: restarting next dev`);
      restarting = true;
      child.kill("SIGTERM");
    }, 300);
  });
}
startNext();
