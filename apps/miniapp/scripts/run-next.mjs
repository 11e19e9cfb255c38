/**
 * `next start` / `next dev` on MINIAPP_PORT. The Next process gets only the Mini App's own variables
 * (GATEWAY_URL, GATEWAY_TIMEOUT_MS, MINIAPP_PORT; from the environment, else from the repo's .env)
 * and what Node needs — never the other apps' secrets that the shared .env holds
 * (scripts/miniapp-env.mjs). GATEWAY_URL is read by the server at run time, so one build serves every
 * environment.   usage: node scripts/run-next.mjs start|dev [--env-file <path>]
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseEnv } from "node:util";
import { miniappDir } from "./ensure-build.mjs";
import { miniappProcessEnv } from "./miniapp-env.mjs";

const mode = process.argv[2] === "dev" ? "dev" : "start";
const flag = process.argv.indexOf("--env-file");
const envFile =
  flag > 0 && process.argv[flag + 1] ? resolve(process.argv[flag + 1]) : join(miniappDir, "../../.env");
const fromFile = existsSync(envFile) ? parseEnv(readFileSync(envFile, "utf8")) : {};
const env = miniappProcessEnv(process.env, fromFile);
const port = env.MINIAPP_PORT || "8050";
const child = spawn(
  process.execPath,
  [join(miniappDir, "node_modules/next/dist/bin/next"), mode, "-p", port],
  { cwd: miniappDir, stdio: "inherit", env },
);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
