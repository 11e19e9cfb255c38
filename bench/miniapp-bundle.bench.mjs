#!/usr/bin/env node
/**
 * First-load JavaScript of the Mini App's checkout route (`/`), in kB gzipped: the sum of the
 * gzipped JS files the page loads, read from Next's build manifest (`/_app` + `/` + polyfills +
 * root main files, each counted once). Builds the app first when there is no build or the
 * sources are newer than it. Budget (issue 6): ≤ 140 kB. Prints the figure; asserts nothing.
 *
 *   pnpm --filter @obuna/miniapp bench:bundle      (or: node bench/miniapp-bundle.bench.mjs)
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const appDir = join(dirname(fileURLToPath(import.meta.url)), "../apps/miniapp");
const nextDir = join(appDir, ".next");
const route = process.argv[2] ?? "/";

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

const buildId = join(nextDir, "BUILD_ID");
const stale = !existsSync(buildId) || newestMtime(join(appDir, "src")) > statSync(buildId).mtimeMs;
if (stale) {
  process.stderr.write("miniapp: building (next build)…\n");
  execFileSync("pnpm", ["run", "build"], { cwd: appDir, stdio: ["ignore", "ignore", "inherit"] });
}

const manifest = JSON.parse(readFileSync(join(nextDir, "build-manifest.json"), "utf8"));
if (!manifest.pages[route]) throw new Error(`route ${route} not in the build manifest`);
const files = [
  ...new Set([
    ...(manifest.polyfillFiles ?? []),
    ...(manifest.rootMainFiles ?? []),
    ...(manifest.pages["/_app"] ?? []),
    ...manifest.pages[route],
  ]),
].filter((file) => file.endsWith(".js"));

let raw = 0;
let gzipped = 0;
const rows = files.map((file) => {
  const content = readFileSync(join(nextDir, file));
  const gz = gzipSync(content, { level: 9 }).length;
  raw += content.length;
  gzipped += gz;
  return { file, raw: (content.length / 1024).toFixed(1), gzip: (gz / 1024).toFixed(1) };
});
for (const row of rows)
  console.log(`  ${row.gzip.padStart(7)} kB gz  ${row.raw.padStart(7)} kB raw  ${row.file}`);
console.log(
  `miniapp checkout route "${route}" first-load JS: ${(gzipped / 1024).toFixed(1)} kB gzipped (${(raw / 1024).toFixed(1)} kB raw, ${files.length} files; budget 140 kB gz)`,
);
