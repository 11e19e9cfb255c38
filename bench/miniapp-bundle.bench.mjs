#!/usr/bin/env node
/**
 * First-load JavaScript of the Mini App's checkout route (`/`), in kB gzipped: the sum of the
 * gzipped JS files the page loads, read from Next's build manifest (`/_app` + `/` + polyfills +
 * root main files, each counted once). Builds the app first when there is no build or the
 * sources are newer than it. Budget (issue 6): ≤ 140 kB. Prints the figure; asserts nothing.
 *
 *   pnpm --filter @obuna/miniapp bench:bundle      (or: node bench/miniapp-bundle.bench.mjs)
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { ensureBuild, miniappDir } from "../apps/miniapp/scripts/ensure-build.mjs";

const nextDir = join(miniappDir, ".next");
const route = process.argv[2] ?? "/";
ensureBuild();

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
