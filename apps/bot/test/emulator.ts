import { createServer } from "node:net";
import TelegramServer from "telegram-test-api";

/** A free TCP port (telegram-test-api builds its URL from the port, so it cannot listen on 0 itself). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

type StoredBotMessage = {
  messageId: number;
  message: { chat_id: number | string; text: string; reply_markup?: unknown };
};

export async function startEmulator(port?: number) {
  port ??= await freePort();
  const server = new TelegramServer({ port, host: "127.0.0.1", storeTimeout: 600 });
  await server.start();
  return {
    server,
    apiRoot: server.config.apiURL,
    /** What the bot sent to `chatId`, oldest first (including edits applied in place). */
    botMessages(chatId: number): StoredBotMessage[] {
      return (server.storage.botMessages as unknown as StoredBotMessage[]).filter(
        (m) => Number(m.message.chat_id) === chatId,
      );
    },
    stop: () => server.stop(),
  };
}

export type InlineButton = { text: string; callback_data?: string; web_app?: { url: string } };

export function buttonsOf(message: { message: { reply_markup?: unknown } } | undefined): InlineButton[] {
  const markup = message?.message.reply_markup as { inline_keyboard?: InlineButton[][] } | string | undefined;
  const parsed =
    typeof markup === "string" ? (JSON.parse(markup) as { inline_keyboard?: InlineButton[][] }) : markup;
  return parsed?.inline_keyboard?.flat() ?? [];
}
