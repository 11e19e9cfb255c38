/**
 * `pnpm reconcile [--since <ISO date>] [--alert] [--json] [--stars]` — compares our payments, open renewal
 * attempts and (against the sandbox) the ATMOS ledger; prints a table of discrepancies and a summary.
 * `--stars` also compares our Telegram Stars payments with the Bot API's getStarTransactions.
 * Exit code: 0 clean, 1 discrepancies found, 2 bad usage or configuration.
 * `--alert` also queues one `admin_alert` (reconciliation) per distinct set of discrepancies per day.
 */
import { createHash } from "node:crypto";
import { parseArgs } from "node:util";
import { createAtmosProvider } from "@obuna/atmos/provider";
import { EnvError } from "@obuna/contracts/env";
import { QUEUES } from "@obuna/contracts/jobs";
import { createDb } from "@obuna/db";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import pino from "pino";
import { queueAdminAlert } from "../admin/maintenance";
import { fetchSandboxLedger, formatReport, reconcile, summarise } from "../admin/reconcile";
import { atmosClientFromEnv } from "../atmos-client";
import { type GatewayEnv, loadGatewayEnv } from "../env";
import { reconcileStars } from "../services/stars";
import { createTelegramBotApi } from "../telegram-bot-api";

function usage(message: string): never {
  process.stderr.write(`${message}\nusage: pnpm reconcile [--since <ISO date>] [--alert] [--json]\n`);
  process.exit(2);
}

async function main(env: GatewayEnv, argv: string[]) {
  let values: { since?: string; alert?: boolean; json?: boolean; stars?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv.filter((a) => a !== "--"),
      options: {
        since: { type: "string" },
        alert: { type: "boolean" },
        json: { type: "boolean" },
        stars: { type: "boolean" },
      },
    }));
  } catch (error) {
    usage((error as Error).message);
  }
  const since = values.since ? new Date(values.since) : undefined;
  if (since && Number.isNaN(since.getTime())) usage(`--since: not a date: ${values.since}`);

  const logger = pino({
    level: env.LOG_LEVEL === "info" ? "warn" : env.LOG_LEVEL,
    base: { app: "reconcile" },
  });
  const db = createDb(env.DATABASE_URL, { applicationName: "obuna-reconcile", max: 4 });
  // The composition root of `pnpm reconcile`: the ATMOS adapter of the PaymentProvider port.
  const provider = createAtmosProvider({
    client: atmosClientFromEnv(env, logger),
    storeId: env.ATMOS_STORE_ID,
  });
  try {
    const report = await reconcile(
      {
        db: db.db,
        provider,
        storeId: env.ATMOS_STORE_ID,
        ledger: () => fetchSandboxLedger(env.ATMOS_BASE_URL),
      },
      { ...(since ? { since } : {}), unresolvedAfterMs: env.RECONCILE_UNRESOLVED_AFTER_MIN * 60_000 },
    );
    if (values.json) {
      process.stdout.write(
        `${JSON.stringify({ ...report, summary: summarise(report.discrepancies) }, null, 2)}\n`,
      );
    } else {
      process.stdout.write(`${formatReport(report)}\n`);
    }
    if (values.alert && report.discrepancies.length > 0) {
      const queue = new Queue(QUEUES.notifications, {
        connection: new Redis(env.REDIS_URL, { maxRetriesPerRequest: 1 }),
      });
      try {
        const fingerprint = createHash("sha256")
          .update(
            report.discrepancies
              .map((d) => `${d.kind}/${d.transactionId}/${d.paymentId}/${d.ref}`)
              .join("\n"),
          )
          .digest("hex")
          .slice(0, 12);
        const s = summarise(report.discrepancies);
        const text = [
          `⚠️ Reconciliation: ${report.discrepancies.length} discrepancies`,
          `double charges ${s.double_charge}, lost payments ${s.lost_payment}, missing at ATMOS ${s.missing_at_atmos}, amount ${s.amount_mismatch}, state ${s.state_mismatch}, unresolved ${s.unresolved_outcome}, without receipt ${s.missing_receipt}`,
          ...report.discrepancies.slice(0, 10).map((d) => `• ${d.kind}: ${d.message}`),
        ].join("\n");
        const day = new Date().toISOString().slice(0, 10);
        await queueAdminAlert(
          { notificationsQueue: queue, logger },
          "reconciliation",
          text,
          `${day}-${fingerprint}`,
        );
      } finally {
        await queue.close();
      }
    }
    let starsFound = 0;
    if (values.stars) {
      const starsReport = await reconcileStars(
        {
          db: db.db,
          stars: createTelegramBotApi({ botToken: env.BOT_TOKEN, apiRoot: env.TELEGRAM_API_ROOT }),
          clock: () => new Date(),
          logger,
        },
        since ?? new Date(0),
      );
      starsFound = starsReport.discrepancies.length;
      process.stdout.write(
        values.json
          ? `${JSON.stringify({ stars: starsReport }, null, 2)}\n`
          : `Telegram Stars: ${starsReport.checkedPayments} payments, ${starsReport.checkedTransactions} transactions, ${starsFound} discrepancies\n${starsReport.discrepancies.map((d) => `• ${JSON.stringify(d)}`).join("\n")}\n`,
      );
    }
    return report.discrepancies.length > 0 || starsFound > 0 ? 1 : 0;
  } finally {
    await db.close();
  }
}

let env: GatewayEnv;
try {
  env = loadGatewayEnv();
} catch (error) {
  // Exit 2, not 1: 1 means "discrepancies found" to whoever runs this from cron.
  if (error instanceof EnvError) usage(error.message);
  throw error;
}
main(env, process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`reconcile failed: ${error.message}\n`);
    process.exit(2);
  },
);
