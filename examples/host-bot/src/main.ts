import { exitOnEnvError } from "@obuna/contracts/env";
import { createAssistantBot } from "./bot";
import { type HostBotEnv, loadHostBotEnv } from "./env";
import { startEventsServer } from "./events";

let env: HostBotEnv;
try {
  env = loadHostBotEnv();
} catch (error) {
  exitOnEnvError(error);
}

const { bot, plugin } = createAssistantBot(env.BOT_TOKEN, {
  gatewayUrl: env.OBUNA_GATEWAY_URL,
  obunaToken: env.OBUNA_TOKEN,
  premiumTtlMs: env.OBUNA_PREMIUM_TTL_MS,
  ...(env.TELEGRAM_API_ROOT ? { apiRoot: env.TELEGRAM_API_ROOT } : {}),
});
const events = env.OBUNA_EVENTS_SECRET
  ? await startEventsServer({ plugin, secret: env.OBUNA_EVENTS_SECRET, port: env.OBUNA_EVENTS_PORT })
  : null;
if (events) console.log(`assistant: Obuna events at ${events.url}`);
const stop = () => {
  events?.server.close();
  void bot.stop();
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
await bot.start({ onStart: (me) => console.log(`assistant @${me.username} polling`) });
