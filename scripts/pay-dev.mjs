#!/usr/bin/env node
// `pnpm pay:dev [--telegram-id <id>] [--plan monthly|quarterly|yearly]`: with `pnpm dev` running,
// creates a payment link the way the bot does (POST /api/v1/payment/create-link with
// INTERNAL_API_TOKEN) and prints a checkout URL that opens in a plain browser: the link plus
// `&dev_user=<id>`, the development identity the Mini App sends as `tma dev:<id>`. The gateway accepts
// that identity only with DEV_ALLOW_UNSIGNED_INIT_DATA=true (never in production); this script checks
// that the running gateway does and says what to change when it does not.
// Settings come from the environment, else from the repository's .env (like the apps).
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, parseEnv } from "node:util";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const envFile = join(root, ".env");
const fromFile = existsSync(envFile) ? parseEnv(readFileSync(envFile, "utf8")) : {};
const setting = (name, fallback) => process.env[name] ?? fromFile[name] ?? fallback;

const { values } = parseArgs({
  options: {
    "telegram-id": { type: "string", default: "1001" },
    plan: { type: "string", default: "monthly" },
  },
});
const telegramId = Number(values["telegram-id"]);
if (!Number.isSafeInteger(telegramId) || telegramId <= 0) fail("--telegram-id must be a positive integer");

const gateway = setting("GATEWAY_URL", "http://127.0.0.1:8030").replace(/\/+$/, "");
const token = setting("INTERNAL_API_TOKEN");
if (!token)
  fail(`INTERNAL_API_TOKEN is not set (environment or ${envFile}); run \`pnpm dev\` once to create .env`);

function fail(message) {
  console.error(`pay:dev: ${message}`);
  process.exit(1);
}

async function request(path, init) {
  try {
    return await fetch(`${gateway}${path}`, { ...init, signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    fail(
      `cannot reach the gateway at ${gateway} (${error.cause?.code ?? error.message}): is \`pnpm dev\` running?`,
    );
  }
}

const created = await request("/api/v1/payment/create-link", {
  method: "POST",
  headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
  body: JSON.stringify({ telegram_id: telegramId, plan_slug: values.plan, first_name: "Dev" }),
});
const body = await created.json().catch(() => null);
if (!created.ok || !body?.success) {
  fail(`create-link answered ${created.status}: ${JSON.stringify(body?.error ?? body)}`);
}
const { session_id: sessionId, payment_url: paymentUrl, plan, expires_at: expiresAt } = body.data;

// The Mini App will call the gateway as `tma dev:<id>`: make sure the running gateway accepts it.
const probe = await request(`/api/v1/payment/session/${sessionId}`, {
  headers: { authorization: `tma dev:${telegramId}` },
});
if (probe.status === 401) {
  fail(
    [
      "the gateway refuses the development identity the link needs.",
      `  Set DEV_ALLOW_UNSIGNED_INIT_DATA=true in ${envFile} (pnpm dev restarts the gateway on save),`,
      "  then run `pnpm pay:dev` again. Never turn it on in production.",
    ].join("\n"),
  );
}
if (!probe.ok) fail(`the gateway answered ${probe.status} for the new session`);

const url = new URL(paymentUrl);
url.searchParams.set("dev_user", String(telegramId));
console.log(
  `pay:dev: ${plan.name} (${plan.price}) for Telegram user ${telegramId}, link valid until ${expiresAt}`,
);
console.log(
  "pay:dev: open in a browser and pay with sandbox card 9860 0901 0101 4364, expiry 02/28, SMS code 111111:",
);
console.log(url.toString());
