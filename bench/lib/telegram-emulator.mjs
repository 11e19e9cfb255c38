// telegram-test-api in its own process, so its work does not delay the bench's recording proxy.
// Usage: node bench/lib/telegram-emulator.mjs <port>; prints "ready" once listening; on SIGTERM
// prints the number of stored bot messages and exits.
import { requireFrom } from "./common.mjs";

const TelegramServer = requireFrom("apps/bot")("telegram-test-api");
const server = new TelegramServer({ port: Number(process.argv[2]), host: "127.0.0.1", storeTimeout: 3600 });
await server.start();
process.stdout.write("ready\n");
process.on("SIGTERM", async () => {
  process.stdout.write(`stored ${server.storage.botMessages.length}\n`);
  await server.stop();
  process.exit(0);
});
