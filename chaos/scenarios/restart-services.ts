/**
 * Scenario 3: Postgres restarted, then Redis restarted (losing every queued job — there is no
 * persistence), in the middle of renewals and first payments. Queued work must come back from the
 * database (sweep, janitor) without restarting our processes. Opt-in: it restarts the machine's own
 * services, which breaks anything else using them at that moment; the services are always put back.
 */
import { execFileSync } from "node:child_process";
import { createConnection } from "node:net";
import { createDb } from "@obuna/db";
import { Redis } from "ioredis";
import postgres from "postgres";
import { checkEndState } from "../check";
import { CHAOS } from "../env";
import {
  type Child,
  flushChaosRedis,
  freePort,
  GatewayCaller,
  prepareChaosDatabase,
  seedDueSubscriptions,
  settleSessions,
  sleep,
  startChaosSandbox,
  startGateway,
  startRenewals,
  waitFor,
} from "../harness";
import { renewalProgress, settleRenewals } from "../renewals-settle";
import { firstPayment, type Outcome } from "./faults";
import type { Log, ScenarioResult } from "./types";

const RENEWALS = 600;
/** Charges in flight in the worker (its concurrency): they may finish after Redis lost their jobs. */
const IN_FLIGHT = 4;
const FIRST_PAYMENTS = 100;
/** How the Redis of this machine kind is started (docs/chaos.md; /work/shared/stack.md). */
const REDIS_START = [
  "--daemonize",
  "yes",
  "--bind",
  "127.0.0.1",
  "-::1",
  "--port",
  "6379",
  "--save",
  "",
  "--appendonly",
  "no",
  "--dir",
  "/var/lib/redis",
  "--logfile",
  "/var/log/redis/ci.log",
];

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

function pgVersion(): string {
  return execFileSync("bash", ["-c", "ls /etc/postgresql | sort -V | tail -n1"]).toString().trim();
}

async function restartPostgres() {
  execFileSync("pg_ctlcluster", ["--skip-systemctl-redirect", pgVersion(), "main", "restart"], {
    stdio: "ignore",
  });
  await waitFor("postgres back", () => portOpen(5432), { timeoutMs: 60_000 });
}

async function restartRedis() {
  try {
    execFileSync("redis-cli", ["-p", "6379", "shutdown", "nosave"], { stdio: "ignore" });
  } catch {
    // redis-cli exits non-zero when the server closes the connection on shutdown.
  }
  await waitFor("redis down", async () => !(await portOpen(6379)), { timeoutMs: 20_000, everyMs: 100 });
  execFileSync("redis-server", REDIS_START, { stdio: "ignore" });
  await waitFor("redis back", () => portOpen(6379), { timeoutMs: 20_000, everyMs: 100 });
}

/** Why this machine's services cannot be restarted from here, or null when they can. */
function restartPrerequisites(): string | null {
  try {
    execFileSync(
      "bash",
      [
        "-c",
        "command -v pg_ctlcluster && command -v redis-server && command -v redis-cli && ls /etc/postgresql",
      ],
      {
        stdio: "ignore",
      },
    );
  } catch {
    return "needs the Debian Postgres cluster (pg_ctlcluster, /etc/postgresql) and redis-server/redis-cli on this machine";
  }
  if (process.getuid?.() !== 0) return "needs root to restart Postgres and Redis";
  return null;
}

/**
 * The "soft" variant, safe on a shared machine: what our processes see of a restart without touching
 * anyone else — every connection to `obuna_chaos` terminated, every connection on Redis index 9
 * killed and that index flushed (all queued jobs, schedulers and locks lost).
 */
async function dropPostgresConnections() {
  const admin = postgres(CHAOS.pgAdminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin`select pg_terminate_backend(pid) from pg_stat_activity
      where datname = ${CHAOS.dbName} and pid <> pg_backend_pid()`;
  } finally {
    await admin.end({ timeout: 5 });
  }
}

async function dropRedisData() {
  const redis = new Redis(CHAOS.redisUrl, { maxRetriesPerRequest: 2 });
  try {
    const db = new URL(CHAOS.redisUrl).pathname.slice(1) || "0";
    const me = await redis.client("ID");
    const clients = String(await redis.client("LIST"))
      .split("\n")
      .map((line) => Object.fromEntries(line.split(" ").map((kv) => kv.split("=") as [string, string])))
      .filter((c) => c.db === db && c.id && c.id !== String(me));
    await redis.flushdb();
    for (const c of clients) await redis.client("KILL", "ID", c.id!).catch(() => 0);
  } finally {
    redis.disconnect();
  }
}

/** Whatever happened: Postgres and Redis answer again when the scenario ends. */
export async function ensureServicesUp(log: Log) {
  if (!(await portOpen(5432))) {
    log("  bringing Postgres back");
    try {
      execFileSync("pg_ctlcluster", ["--skip-systemctl-redirect", pgVersion(), "main", "start"], {
        stdio: "ignore",
      });
    } catch (error) {
      log(`  pg_ctlcluster start: ${(error as Error).message}`);
    }
    await waitFor("postgres back", () => portOpen(5432), { timeoutMs: 60_000 });
  }
  if (!(await portOpen(6379))) {
    log("  bringing Redis back");
    execFileSync("redis-server", REDIS_START, { stdio: "ignore" });
    await waitFor("redis back", () => portOpen(6379), { timeoutMs: 20_000 });
  }
}

export async function restartServicesScenario(
  log: Log,
  allowRestart: boolean,
  mode: "restart" | "drop-connections" = "restart",
): Promise<Omit<ScenarioResult, "seconds">> {
  const name = mode === "restart" ? "restart-services" : "drop-connections";
  if (mode === "restart" && !allowRestart) {
    return {
      name,
      facts: {},
      counts: null,
      violations: [],
      problems: [],
      skipped:
        "restarts this machine's Postgres and Redis; run `pnpm chaos --scenario restart-services` or pass --allow-restart",
    };
  }
  const missing = mode === "restart" ? restartPrerequisites() : null;
  if (missing) {
    return {
      name,
      facts: {},
      counts: null,
      violations: [],
      problems: [],
      skipped: missing,
    };
  }
  // Ctrl-C in the middle must not leave the machine without Postgres or Redis either.
  const onSignal = (signal: NodeJS.Signals) => {
    log(`  ${signal}: bringing the services back before exiting`);
    ensureServicesUp(log).finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const databaseUrl = await prepareChaosDatabase();
  await flushChaosRedis();
  const port = await freePort();
  const sandbox = await startChaosSandbox({
    callbackUrl: `http://127.0.0.1:${port}/api/v1/checkout/callback`,
    latencyMs: 40,
  });
  const handle = createDb(databaseUrl, { max: 4 });
  let gateway: Child | null = null;
  let worker: Child | null = null;
  try {
    const seeded = await seedDueSubscriptions(handle, sandbox, {
      count: RENEWALS,
      telegramBase: 7_500_000_000,
    });
    gateway = await startGateway({
      databaseUrl,
      atmosUrl: sandbox.url,
      port,
      logFile: `${name}.gateway.log`,
    });
    const start = () =>
      startRenewals({
        databaseUrl,
        atmosUrl: sandbox.url,
        logFile: `${name}.renewals.log`,
        concurrency: IN_FLIGHT,
        ratePerS: 10,
      });
    worker = await start();
    const api = new GatewayCaller(gateway.url, 30_000);
    const tally = new Map<string, number>();
    const outcomes = new Map<Outcome, number>();
    let next = 0;
    const payments = Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < FIRST_PAYMENTS) {
          const outcome = await firstPayment(api, 7_600_000_000 + ++next, tally);
          outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        }
      }),
    );

    await sleep(3_000);
    const before = await renewalProgress(handle);
    log(
      `  ${mode === "restart" ? "restarting Postgres" : "terminating every obuna_chaos connection"} (renewed so far ${before.success}, due ${before.due})`,
    );
    if (mode === "restart") await restartPostgres();
    else await dropPostgresConnections();
    await sleep(3_000);
    const mid = await waitFor("the database after its restart", () => renewalProgress(handle));
    log(
      `  ${mode === "restart" ? "restarting Redis" : "flushing Redis index 9 and killing its connections"}, losing every queued job (renewed so far ${mid.success}, due ${mid.due})`,
    );
    if (mode === "restart") await restartRedis();
    else await dropRedisData();
    const afterRestart = await renewalProgress(handle);
    // The running worker must carry on by itself: no process restart.
    let resumed = false;
    try {
      await waitFor(
        "renewals progress after the Redis restart",
        async () => {
          const p = await renewalProgress(handle);
          // More than the charges that were already running when Redis lost their jobs.
          return p.success > afterRestart.success + 2 * IN_FLIGHT || (p.due === 0 && p.open === 0);
        },
        { timeoutMs: 45_000, everyMs: 500 },
      );
      resumed = true;
    } catch {
      resumed = false;
    }
    log(`  worker resumed by itself after the Redis restart: ${resumed ? "yes" : "NO"}`);
    await payments;
    log(`  first payments: ${[...outcomes].map(([k, v]) => `${k} ${v}`).join(", ")}`);

    const processing = await handle.client<{ id: string; telegram_id: number }[]>`
      select s.id, u.telegram_id from payment_sessions s join users u on u.id = s.user_id
      where s.status = 'processing'`;
    for (const s of processing) {
      await api.call("GET", `/api/v1/payment/session/${s.id}`, GatewayCaller.tma(Number(s.telegram_id)));
    }
    const sessionsMovedInTime = await settleSessions(handle, log);
    const settled = await settleRenewals({ handle, sandbox, databaseUrl, worker, startWorker: start, log });
    worker = null;
    const { counts, problems, ledgerStates } = await checkEndState(handle, sandbox, seeded);
    const violations: string[] = [];
    if (!resumed) violations.push("the renewals worker did not resume by itself after the Redis restart");
    return {
      name,
      facts: {
        "due renewals": RENEWALS,
        "renewed before / after the restarts": `${before.success} / ${afterRestart.success}`,
        "worker resumed by itself after Redis restart": resumed ? "yes" : "no",
        renewed: settled.success,
        "janitor runs (moved in time)": settled.janitorRuns,
        "sessions finished by gateway maintenance (moved in time)": sessionsMovedInTime,
        "first payments at the client": [...outcomes].map(([k, v]) => `${k} ${v}`).join(", "),
        "gateway answers": [...tally]
          .sort()
          .map(([k, v]) => `${k}: ${v}`)
          .join(", "),
      },
      counts,
      ledgerStates,
      violations,
      problems,
    };
  } finally {
    if (mode === "restart") await ensureServicesUp(log);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await worker?.kill();
    await gateway?.stop();
    await handle.close().catch(() => {});
    await sandbox.close();
  }
}
