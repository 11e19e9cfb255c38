import type { StarsBotApi } from "@obuna/billing";

/** A Bot API error answer (`ok: false`), e.g. 400 "Bad Request: SUBSCRIPTION_PERIOD_INVALID". */
export class BotApiError extends Error {
  constructor(
    readonly method: string,
    readonly errorCode: number | null,
    readonly description: string,
  ) {
    super(`${method}: ${errorCode ?? "network"} ${description}`);
    this.name = "BotApiError";
  }
}

export interface TelegramBotApiOptions {
  botToken: string;
  /** https://api.telegram.org (TELEGRAM_API_ROOT; a local emulator in tests). */
  apiRoot: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** The Stars methods of the Bot API over HTTPS (core.telegram.org/bots/api#payments). The token is never logged. */
export function createTelegramBotApi(options: TelegramBotApiOptions): StarsBotApi {
  const doFetch = options.fetch ?? fetch;
  const root = options.apiRoot.replace(/\/+$/, "");
  async function call<T>(method: string, params: object): Promise<T> {
    let response: Response;
    try {
      response = await doFetch(`${root}/bot${options.botToken}/${method}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(params),
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      throw new BotApiError(method, null, (error as Error).message);
    }
    const body = (await response.json().catch(() => null)) as {
      ok?: boolean;
      result?: T;
      error_code?: number;
      description?: string;
    } | null;
    if (!body?.ok) {
      throw new BotApiError(method, body?.error_code ?? response.status, body?.description ?? "no answer");
    }
    return body.result as T;
  }
  return {
    createInvoiceLink: (invoice) => call<string>("createInvoiceLink", invoice),
    refundStarPayment: (input) => call<true>("refundStarPayment", input),
    editUserStarSubscription: (input) => call<true>("editUserStarSubscription", input),
    getStarTransactions: (input) => call("getStarTransactions", input),
  };
}
