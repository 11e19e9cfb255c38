/**
 * `next start` / `next dev` on MINIAPP_PORT, with the repo's .env loaded first (values already in
 * the environment win). GATEWAY_URL is read by the server at run time, so one build serves every
 * environment.   usage: node scripts/run-next.mjs start|dev
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { miniappDir } from "./ensure-build.mjs";

const mode = process.argv[2] === "dev" ? "dev" : "start";
const envFile = join(miniappDir, "../../.env");
if (existsSync(envFile)) process.loadEnvFile(envFile);
const port = process.env.MINIAPP_PORT || "8050";
const child = spawn(
  process.execPath,
  [join(miniappDir, "node_modules/next/dist/bin/next"), mode, "-p", port],
  {
    cwd: miniappDir,
    stdio: "inherit",
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
  },
);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
