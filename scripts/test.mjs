#!/usr/bin/env node
// `pnpm test`: makes sure Postgres and Redis answer, then runs every package's tests through turbo
// (one package at a time: the suites start servers and browsers and the machine has 2 cores),
// and ends with one summary line over all packages: "tests: N passed, N failed".
import { spawn, spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const services = spawnSync("bash", ["infra/services.sh"], { cwd: root, stdio: "inherit" });
if (services.status !== 0) process.exit(services.status ?? 1);

const child = spawn("pnpm", ["exec", "turbo", "run", "test", "--concurrency=1", ...process.argv.slice(2)], {
  cwd: root,
  stdio: ["inherit", "pipe", "inherit"],
});
let passed = 0;
let failed = 0;
let skipped = 0;
let failedFiles = 0;
let buffer = "";
const ESC = String.fromCharCode(27);
const strip = (s) =>
  s
    .split(ESC)
    .map((part, i) => (i === 0 ? part : part.replace(/^\[[0-9;]*m/, "")))
    .join("");
child.stdout.on("data", (chunk) => {
  process.stdout.write(chunk);
  buffer += chunk.toString();
  const lines = buffer.split("\n");
  buffer = lines.pop() ?? "";
  for (const line of lines) {
    // vitest: " Test Files  3 failed | 2 passed (5)": a file whose setup failed counts its tests as skipped.
    const files = /^\s*(?:\S+:test:\s+)?Test Files\s+(\d+) failed/.exec(strip(line));
    if (files) failedFiles += Number(files[1]);
    // vitest: "      Tests  2 failed | 11 passed | 1 skipped (14)"
    const m = /^\s*(?:\S+:test:\s+)?Tests\s+(.+)\(\d+\)\s*$/.exec(strip(line));
    if (!m) continue;
    for (const part of m[1].split("|")) {
      const [, n, what] = /(\d+)\s+(\w+)/.exec(part.trim()) ?? [];
      if (what === "passed") passed += Number(n);
      else if (what === "failed") failed += Number(n);
      else if (what === "skipped" || what === "todo") skipped += Number(n);
    }
  }
});
child.on("close", (code) => {
  const summary = `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`;
  const files = failedFiles ? ` (${failedFiles} test files failed, e.g. in their setup)` : "";
  console.log(`\ntests: ${summary}${files}${code === 0 ? "" : " — FAILED"}`);
  process.exit(code ?? 1);
});
