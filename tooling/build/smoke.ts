/**
 * Helpers of the apps' build smoke tests (apps/{gateway,bot,renewals}/test/build.smoke.test.ts):
 * build with the app's own `build` script, check what the bundle imports, and start it the way its
 * `start` script does: plain `node`, no tsx, no loader.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { createServer } from "node:net";
import { join } from "node:path";

/** `pnpm run build` in the app (tsup: a second or two); throws with its output when it fails. */
export function buildApp(appDir: string): void {
  const result = spawnSync("pnpm", ["run", "build"], { cwd: appDir, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`pnpm run build failed:\n${result.stdout}\n${result.stderr}`);
}

interface Metafile {
  outputs: Record<string, { imports: { path: string; external?: boolean }[] }>;
}

/**
 * Every bare import the built bundle leaves to Node that a production install (`pnpm install --prod`,
 * `pnpm deploy --prod`) would not provide: not a Node built-in, not in the app's `dependencies`
 * (a devDependency, or a package only one of our internal packages lists). An @obuna/* import left
 * external is a problem too: those export TypeScript source, which plain node cannot load.
 */
export function bundleImportProblems(appDir: string): string[] {
  const pkg = JSON.parse(readFileSync(join(appDir, "package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
  };
  const deps = Object.keys(pkg.dependencies ?? {}).filter((name) => !name.startsWith("@obuna/"));
  const meta = JSON.parse(readFileSync(join(appDir, "dist/metafile-esm.json"), "utf8")) as Metafile;
  const problems = new Set<string>();
  for (const [file, output] of Object.entries(meta.outputs)) {
    if (!file.endsWith(".js")) continue;
    for (const { path, external } of output.imports) {
      if (!external) continue;
      if (path.startsWith("node:") || builtinModules.includes(path)) continue;
      if (deps.some((dep) => path === dep || path.startsWith(`${dep}/`))) continue;
      problems.add(`${file} imports ${path}`);
    }
  }
  return [...problems].sort();
}

/** The entry file and node flags of the app's `start` script, without the dev-only `.env` file flag. */
export function startCommand(appDir: string, script = "start"): string[] {
  const pkg = JSON.parse(readFileSync(join(appDir, "package.json"), "utf8")) as {
    scripts: Record<string, string>;
  };
  const [command, ...args] = (pkg.scripts[script] ?? "").split(/\s+/);
  if (command !== "node") throw new Error(`"${script}" must run plain node, not: ${pkg.scripts[script]}`);
  // A developer's ../../.env would add its example secrets, which production mode refuses.
  return args.filter((arg) => !arg.startsWith("--env-file"));
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface Started {
  child: ChildProcess;
  output(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
  /** The exit code once it ends by itself (a CLI). */
  exited: Promise<number | null>;
}

/**
 * Starts `node <args>` in `appDir` with exactly `env` (plus PATH) and waits until its output matches
 * `ready`; rejects with the output when it exits first or after `timeoutMs`.
 */
export async function startBuilt(
  appDir: string,
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
  timeoutMs = 30_000,
): Promise<Started> {
  const child = spawn(process.execPath, args, {
    cwd: appDir,
    // biome-ignore lint/style/noProcessEnv: a test helper; the child gets PATH and nothing else from here
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const started: Started = {
    child,
    exited,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const kill = setTimeout(() => child.kill("SIGKILL"), 20_000);
      try {
        return await exited;
      } finally {
        clearTimeout(kill);
      }
    },
  };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`not ready after ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (ready.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before ready:\n${output}`));
    });
  });
  return started;
}
