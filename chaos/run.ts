/**
 * `pnpm chaos [--scenario <name>[,<name>]] [--allow-restart]`: runs the chaos scenarios against real
 * processes (gateway and renewals worker as children, ATMOS sandbox in this process), on the
 * dedicated database `obuna_chaos` and Redis index 9, and checks each end state against the ATMOS
 * ledger. Prints the counts per scenario; exits 1 on any violation, 2 on bad usage.
 * Not part of `pnpm test`. See docs/chaos.md.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { isClean } from "./check";
import { CHAOS } from "./env";
import { LOG_DIR } from "./harness";
import { duplicatesScenario } from "./scenarios/duplicates";
import { faultsScenario } from "./scenarios/faults";
import { firstPaymentFaultsScenario } from "./scenarios/first-payment-faults";
import { killWorkerScenario } from "./scenarios/kill-worker";
import { restartServicesScenario } from "./scenarios/restart-services";
import type { Log, ScenarioResult } from "./scenarios/types";

const SCENARIOS: Record<
  string,
  (log: Log, allowRestart: boolean) => Promise<Omit<ScenarioResult, "seconds">>
> = {
  "kill-worker": (log) => killWorkerScenario(log),
  "atmos-faults": (log) => faultsScenario(log),
  "first-payment-faults": (log) => firstPaymentFaultsScenario(log),
  "drop-connections": (log) => restartServicesScenario(log, false, "drop-connections"),
  "restart-services": (log, allow) => restartServicesScenario(log, allow, "restart"),
  duplicates: (log) => duplicatesScenario(log),
};

function usage(message: string): never {
  process.stderr.write(
    `${message}\nusage: pnpm chaos [--scenario ${Object.keys(SCENARIOS).join("|")}[,...]] [--allow-restart]\n`,
  );
  process.exit(2);
}

async function main(): Promise<number> {
  let values: { scenario?: string; "allow-restart"?: boolean };
  try {
    ({ values } = parseArgs({
      args: process.argv.slice(2).filter((a) => a !== "--"),
      options: { scenario: { type: "string" }, "allow-restart": { type: "boolean" } },
    }));
  } catch (error) {
    usage((error as Error).message);
  }
  const names = values.scenario ? values.scenario.split(",").map((s) => s.trim()) : Object.keys(SCENARIOS);
  for (const name of names) if (!SCENARIOS[name]) usage(`unknown scenario: ${name}`);
  // Restarting the machine's Postgres and Redis is opt-in: name the scenario or pass --allow-restart.
  const allowRestart =
    Boolean(values["allow-restart"]) ||
    CHAOS.allowServiceRestart ||
    values.scenario?.includes("restart-services");

  const results: ScenarioResult[] = [];
  for (const name of names) {
    console.log(`\n=== chaos: ${name}`);
    const started = performance.now();
    let result: ScenarioResult;
    try {
      const r = await SCENARIOS[name]!((line) => console.log(line), Boolean(allowRestart));
      result = { ...r, seconds: (performance.now() - started) / 1000 };
    } catch (error) {
      result = {
        name,
        facts: {},
        counts: null,
        violations: [`scenario crashed: ${(error as Error).stack ?? error}`],
        problems: [],
        seconds: (performance.now() - started) / 1000,
      };
    }
    results.push(result);
    print(result);
  }

  console.log("\n=== chaos summary");
  console.log(summaryTable(results));
  mkdirSync(LOG_DIR, { recursive: true });
  writeFileSync(join(LOG_DIR, "last-run.json"), `${JSON.stringify(results, null, 2)}\n`);
  const failed = results.filter(
    (r) => !r.skipped && (r.violations.length > 0 || !r.counts || !isClean(r.counts)),
  );
  console.log(failed.length ? `\n${failed.length} scenario(s) FAILED` : "\nall scenarios passed");
  return failed.length ? 1 : 0;
}

function print(r: ScenarioResult) {
  if (r.skipped) {
    console.log(`  SKIPPED: ${r.skipped}`);
    return;
  }
  for (const [k, v] of Object.entries(r.facts)) console.log(`  ${k}: ${v}`);
  if (r.ledgerStates) console.log(`  ATMOS ledger: ${r.ledgerStates}`);
  if (r.counts) {
    const c = r.counts;
    console.log(
      `  subscriptions consistent with the ATMOS ledger: ${c.consistent}/${c.subscriptions} (inconsistent ${c.inconsistent})`,
    );
    console.log(`  double charges: ${c.doubleCharges}`);
    console.log(`  lost payments: ${c.lostPayments}`);
    console.log(
      `  phantom payments: ${c.phantomPayments}, unresolved: ${c.unresolved}, reconcile discrepancies: ${c.reconcileDiscrepancies}, confirmed ATMOS charges: ${c.confirmedCharges}`,
    );
    console.log(
      `  payments without a recorded message: ${c.unannouncedPayments}, messages still owed to the queue: ${c.owedNotifications}`,
    );
  }
  for (const v of r.violations) console.log(`  VIOLATION: ${v}`);
  for (const p of r.problems.slice(0, 25)) console.log(`  problem: ${p}`);
  if (r.problems.length > 25) console.log(`  ... ${r.problems.length - 25} more problems`);
  console.log(`  took ${r.seconds.toFixed(1)} s`);
}

function summaryTable(results: ScenarioResult[]): string {
  const header = [
    "scenario",
    "consistent subs",
    "double charges",
    "lost payments",
    "other violations",
    "result",
    "time",
  ];
  const rows = results.map((r) => {
    if (r.skipped) return [r.name, "-", "-", "-", "-", "skipped", "-"];
    const c = r.counts;
    const other = c
      ? c.inconsistent +
        c.phantomPayments +
        c.unresolved +
        c.reconcileDiscrepancies +
        c.unannouncedPayments +
        r.violations.length
      : r.violations.length;
    const ok = c !== null && isClean(c) && r.violations.length === 0;
    return [
      r.name,
      c ? `${c.consistent}/${c.subscriptions}` : "-",
      c ? String(c.doubleCharges) : "-",
      c ? String(c.lostPayments) : "-",
      String(other),
      ok ? "pass" : "FAIL",
      `${r.seconds.toFixed(0)} s`,
    ];
  });
  const all = [header, ...rows];
  const width = header.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(width[i]!)).join(" | ")} |`;
  return [line(header), `| ${width.map((w) => "-".repeat(w)).join(" | ")} |`, ...rows.map(line)].join("\n");
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`chaos failed: ${error.stack ?? error.message}`);
    process.exit(2);
  },
);
