import { exitOnEnvError } from "@obuna/contracts/env";
import { createAssistantBot } from "./bot";
import { type HostBotEnv, loadHostBotEnv } from "./env";

let env: HostBotEnv;
try {
  env = loadHostBotEnv();
} catch (error) {
  exitOnEnvError(error);
}

const { bot } = createAssistantBot(env.BOT_TOKEN, {
  gatewayUrl: env.OBUNA_GATEWAY_URL,
  obunaToken: env.OBUNA_TOKEN,
  premiumTtlMs: env.OBUNA_PREMIUM_TTL_MS,
  ...(env.TELEGRAM_API_ROOT ? { apiRoot: env.TELEGRAM_API_ROOT } : {}),
});
process.once("SIGINT", () => void bot.stop());
process.once("SIGTERM", () => void bot.stop());
await bot.start({ onStart: (me) => console.log(`assistant @${me.username} polling`) });
