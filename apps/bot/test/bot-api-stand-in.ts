import { createServer, type IncomingMessage, request, type Server } from "node:http";
import { freePort, startEmulator } from "./emulator";

/**
 * telegram-test-api 4.2.1 lacks copyMessage, forwardMessage and setChatMenuButton, and never answers
 * 429. This stand-in sits in front of it (same process): those methods are implemented here from the
 * Bot API docs (https://core.telegram.org/bots/api#copymessage, #forwardmessage, #setchatmenubutton),
 * writing into the emulator's own message store so the messages show up like any other; every other
 * call is proxied to the emulator unchanged. `failNext` answers the next call of a method with a Bot
 * API error (e.g. 429 with `parameters.retry_after`) without passing it on.
 */
type StoredUpdate = {
  messageId: number;
  botToken: string;
  message: Record<string, unknown> & { chat?: { id: number }; chat_id?: number | string; text?: string };
};
type BotApiError = {
  ok: false;
  error_code: number;
  description: string;
  parameters?: { retry_after?: number };
};

export interface StandInCall {
  method: string;
  payload: Record<string, unknown>;
  at: number;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export async function startEmulatorWithStandIn() {
  const emulator = await startEmulator();
  const upstream = new URL(emulator.apiRoot);
  const server = emulator.server;
  const calls: StandInCall[] = [];
  const failures = new Map<string, BotApiError[]>();
  const menuButtons = new Map<string, unknown>();

  const userMessages = () => server.storage.userMessages as unknown as StoredUpdate[];
  const botMessages = () => server.storage.botMessages as unknown as StoredUpdate[];

  /** A message in `chatId` with `messageId`, sent by a user or by the bot (what Telegram would copy). */
  function findMessage(token: string, chatId: number, messageId: number) {
    const fromUser = userMessages().find(
      (u) => u.botToken === token && u.messageId === messageId && Number(u.message.chat?.id) === chatId,
    );
    if (fromUser) return fromUser.message;
    return botMessages().find(
      (u) => u.botToken === token && u.messageId === messageId && Number(u.message.chat_id) === chatId,
    )?.message;
  }

  function local(token: string, method: string, payload: Record<string, unknown>): unknown | undefined {
    if (method === "setChatMenuButton") {
      menuButtons.set(String(payload.chat_id ?? "default"), payload.menu_button ?? { type: "default" });
      return { ok: true, result: true };
    }
    if (method === "getChatMenuButton") {
      return {
        ok: true,
        result: menuButtons.get(String(payload.chat_id ?? "default")) ?? { type: "default" },
      };
    }
    if (method === "copyMessage" || method === "forwardMessage") {
      const source = findMessage(token, Number(payload.from_chat_id), Number(payload.message_id));
      if (!source) {
        return {
          ok: false,
          error_code: 400,
          description: `Bad Request: message to ${method === "copyMessage" ? "copy" : "forward"} not found`,
        };
      }
      const copy: Record<string, unknown> = {
        chat_id: payload.chat_id,
        text: method === "copyMessage" && typeof payload.caption === "string" ? payload.caption : source.text,
        ...(payload.reply_parameters ? { reply_parameters: payload.reply_parameters } : {}),
        ...(payload.reply_markup ? { reply_markup: payload.reply_markup } : {}),
        [method === "copyMessage" ? "copied_from" : "forward_origin"]: {
          chat_id: Number(payload.from_chat_id),
          message_id: Number(payload.message_id),
        },
      };
      const sent = server.addBotMessage(copy as never, token) as unknown as { message_id: number };
      // copyMessage returns a MessageId; forwardMessage the Message.
      return { ok: true, result: method === "copyMessage" ? { message_id: sent.message_id } : sent };
    }
    return undefined;
  }

  const port = await freePort();
  const proxy: Server = createServer(async (req, res) => {
    const body = await readBody(req);
    const match = /^\/bot([^/]+)\/([A-Za-z]+)/.exec(req.url ?? "");
    if (match) {
      const [, token, method] = match as unknown as [string, string, string];
      let payload: Record<string, unknown> = {};
      if (body.length > 0 && String(req.headers["content-type"]).includes("json")) {
        payload = JSON.parse(body.toString("utf8")) as Record<string, unknown>;
      }
      if (method !== "getUpdates") calls.push({ method, payload, at: Date.now() });
      const failure = failures.get(method)?.shift();
      const answer = failure ?? local(token, method, payload);
      if (answer !== undefined) {
        const status = (answer as { ok: boolean; error_code?: number }).ok
          ? 200
          : ((answer as BotApiError).error_code ?? 400);
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(answer));
        return;
      }
    }
    const forwarded = request(
      {
        host: upstream.hostname,
        port: Number(upstream.port),
        path: req.url,
        method: req.method,
        headers: { ...req.headers, "content-length": String(body.length) },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forwarded.on("error", () => {
      res.writeHead(502);
      res.end();
    });
    forwarded.end(body);
  });
  await new Promise<void>((resolve) => proxy.listen(port, "127.0.0.1", resolve));

  return {
    ...emulator,
    /** Give this to the bot; the emulator's own clients keep talking to `emulator.apiRoot`. */
    apiRoot: `http://127.0.0.1:${port}`,
    emulatorRoot: emulator.apiRoot,
    calls,
    menuButton: (chatId?: number) => menuButtons.get(String(chatId ?? "default")),
    /** The next call of `method` gets this Bot API error instead of reaching the emulator. */
    failNext(method: string, error: BotApiError) {
      failures.set(method, [...(failures.get(method) ?? []), error]);
    },
    async stop() {
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      await emulator.stop();
    },
  };
}
