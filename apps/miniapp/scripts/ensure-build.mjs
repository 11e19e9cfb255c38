/**
 * Runs `next build` for the Mini App when there is no build yet or a source file is newer than it.
 * Shared by the test global setup (one build per test run at most) and the bundle bench.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const miniappDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const SOURCES = [
  "src",
  "next.config.ts",
  "postcss.config.mjs",
  "package.json",
  "tsconfig.json",
  "../../packages/contracts/src",
];

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

export function buildIsStale() {
  const buildId = join(miniappDir, ".next", "BUILD_ID");
  if (!existsSync(buildId)) return true;
  const builtAt = statSync(buildId).mtimeMs;
  return SOURCES.some((source) => newestMtime(join(miniappDir, source)) > builtAt);
}

/** Returns true when it built. */
export function ensureBuild({ force = false } = {}) {
  if (!force && !buildIsStale()) return false;
  process.stderr.write("miniapp: next build…\n");
  execFileSync(process.execPath, [join(miniappDir, "node_modules/next/dist/bin/next"), "build"], {
    cwd: miniappDir,
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1" },
  });
  return true;
}
