// Shared helpers for the root benchmarks (plain Node: the root has no tsx). Apps are started as
// processes from their own package (their real entry points); libraries they depend on (hono,
// postgres.js, bullmq, ioredis, telegram-test-api) are loaded from that app's node_modules.
import { execFileSync, spawn } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { cpus, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** `require` as seen from a workspace package (e.g. "apps/gateway"). */
export function requireFrom(packageDir) {
  return createRequire(join(ROOT, packageDir, "package.json"));
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

export const ADMIN_DB_URL =
  process.env.BENCH_ADMIN_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/** Drops and recreates `name`, then migrates and seeds it with the project's own scripts. */
export function prepareDatabase(name) {
  execFileSync("psql", [ADMIN_DB_URL, "-q", "-c", `drop database if exists "${name}" with (force)`], {
    stdio: "inherit",
  });
  const url = ADMIN_DB_URL.replace(/\/[^/]*$/, `/${name}`);
  const env = { ...process.env, DATABASE_URL: url };
  execFileSync("pnpm", ["--filter", "@obuna/db", "db:migrate"], { cwd: ROOT, env, stdio: "ignore" });
  execFileSync("pnpm", ["--filter", "@obuna/db", "db:seed"], { cwd: ROOT, env, stdio: "ignore" });
  return url;
}

/** Starts a child process; resolves once `url` answers (any status). */
export async function startProcess({
  name,
  command,
  args,
  cwd,
  env,
  readyUrl,
  timeoutMs = 60_000,
  onFailure,
}) {
  const child = spawn(command, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) {
      await onFailure?.();
      throw new Error(`${name} exited (${child.exitCode}): ${stderr}`);
    }
    try {
      await fetch(readyUrl);
      break;
    } catch {
      if (Date.now() - started > timeoutMs) {
        child.kill("SIGKILL");
        await onFailure?.();
        throw new Error(`${name} did not start: ${stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  return {
    child,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
      }),
  };
}

export function machine() {
  const cpu = cpus()[0]?.model ?? "unknown";
  let nproc = String(cpus().length);
  try {
    nproc = execFileSync("nproc", { encoding: "utf8" }).trim();
  } catch {}
  return {
    nproc,
    cpu,
    memory: `${(totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    node: process.version,
    os: `${process.platform}/${process.arch}`,
  };
}

export function machineLine() {
  const m = machine();
  return `Machine: ${m.nproc} cores (\`nproc\`), ${m.cpu}, ${m.memory} RAM, ${m.os}, Node ${m.node}.`;
}

/** Prints a table to the console (and returns it as Markdown). */
export function table(headers, rows) {
  const widths = headers.map((h, i) => Math.max(String(h).length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join("  ");
  console.log(line(headers));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const row of rows) console.log(line(row));
  return [
    `| ${headers.join(" | ")} |`,
    `|${headers.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

/** Replaces (or appends) this bench's own section of docs/benchmarks.md, between its markers. */
export function writeDocsSection(id, markdown) {
  const file = join(ROOT, "docs", "benchmarks.md");
  const start = `<!-- ${id}:start -->`;
  const end = `<!-- ${id}:end -->`;
  let text = readFileSync(file, "utf8");
  const block = `${start}\n${markdown.trim()}\n${end}`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from >= 0 && to > from) text = text.slice(0, from) + block + text.slice(to + end.length);
  else text = `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, text);
}

let clockTicks = 100;
try {
  clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
} catch {}

/** Every process from /proc (Linux): its parent, its command name and its CPU ticks (user + system) so far. */
function processStats() {
  const stats = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const text = readFileSync(`/proc/${entry}/stat`, "utf8");
      // The command is in parentheses and may contain spaces; the fields follow it.
      const command = text.slice(text.indexOf("(") + 1, text.lastIndexOf(")"));
      const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
      stats.set(Number(entry), {
        command,
        ppid: Number(rest[1]),
        ticks: Number(rest[11]) + Number(rest[12]),
      });
    } catch {}
  }
  return stats;
}

/**
 * CPU time (user + system, ms) used so far by a process and every process under it (tsx runs the
 * app as a child), from /proc (Linux). Unlike req/s it barely depends on what else the machine runs.
 */
export function processTreeCpuMs(rootPid) {
  const stats = processStats();
  let ticks = 0;
  const queue = [rootPid];
  while (queue.length > 0) {
    const pid = queue.pop();
    ticks += stats.get(pid)?.ticks ?? 0;
    for (const [child, s] of stats) if (s.ppid === pid) queue.push(child);
  }
  return (ticks * 1000) / clockTicks;
}

/**
 * CPU time (ms) of every process named `command` (e.g. "postgres": the server and all its backends),
 * from /proc. Compare two readings taken around a measurement on a machine where nothing else uses it.
 */
export function commandCpuMs(command) {
  let ticks = 0;
  for (const s of processStats().values()) if (s.command === command) ticks += s.ticks;
  return (ticks * 1000) / clockTicks;
}
