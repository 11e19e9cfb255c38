import { type Bot, GrammyError, HttpError, type Transformer } from "grammy";
import type { Logger } from "pino";

/**
 * Says in the log whether the bot can reach the Bot API at TELEGRAM_API_ROOT. Without this a bot
 * whose server cannot reach Telegram (no internet, firewall, a local emulator that is not running)
 * printed nothing at all: grammY's getMe waited up to 500 s and the runner's polling retried silently.
 *
 * - start-up: getMe (instead of grammY's `bot.init()`, which retries network errors silently forever) is retried with exponential backoff (`initialDelayMs` doubling up to `maxDelayMs`),
 *   each failure logged as "cannot reach Telegram", success after failures as "Telegram reachable again";
 *   Telegram's own refusals (a wrong BOT_TOKEN: 401/404) are not retried.
 * - polling: a getUpdates call that cannot reach Telegram is retried the same way inside the API
 *   (so the runner never gives up), logged the same way, and the recovery is logged once.
 */
export interface ReachabilityOptions {
  apiRoot: string;
  logger: Logger;
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Timeout of one getMe/getUpdates attempt beyond its long-poll time (ms). */
  attemptTimeoutMs?: number;
}

type Backoff = { next(): number; reset(): void };

function backoff(initialDelayMs: number, maxDelayMs: number): Backoff {
  let delay = initialDelayMs;
  return {
    next() {
      const current = delay;
      delay = Math.min(delay * 2, maxDelayMs);
      return current;
    },
    reset() {
      delay = initialDelayMs;
    },
  };
}

/** True for "the request never got an answer from the Bot API" (not a Telegram error reply). */
export function isUnreachable(error: unknown): error is HttpError {
  return error instanceof HttpError;
}

/** Why the request failed: the network error code, else its message without the bot token in the URL. */
function reason(error: HttpError): string {
  const cause = error.error as
    | { code?: string; message?: string; cause?: { code?: string; message?: string } }
    | undefined;
  const text = cause?.code ?? cause?.cause?.code ?? cause?.message ?? error.message;
  return text.replace(/\/bot[^/\s]+/g, "/bot<token>");
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

function withTimeout(signal: AbortSignal | undefined, ms: number): AbortSignal {
  const timeout = AbortSignal.timeout(ms);
  return signal ? AbortSignal.any([signal, timeout]) : timeout;
}

class Reachability {
  private failures = 0;
  private readonly delays: Backoff;
  constructor(private readonly options: ReachabilityOptions) {
    this.delays = backoff(options.initialDelayMs ?? 1_000, options.maxDelayMs ?? 60_000);
  }

  failed(method: string, error: HttpError): number {
    this.failures += 1;
    const retryInMs = this.delays.next();
    this.options.logger.warn(
      {
        apiRoot: this.options.apiRoot,
        method,
        attempt: this.failures,
        retryInMs,
        reason: reason(error),
      },
      `cannot reach Telegram at ${this.options.apiRoot} (${method}: ${reason(error)}); retrying in ${Math.round(retryInMs / 1000)} s`,
    );
    return retryInMs;
  }

  succeeded(method: string): void {
    if (this.failures === 0) return;
    this.options.logger.info(
      { apiRoot: this.options.apiRoot, method, failedAttempts: this.failures },
      `Telegram reachable again at ${this.options.apiRoot} after ${this.failures} failed attempt(s)`,
    );
    this.failures = 0;
    this.delays.reset();
  }
}

/**
 * getMe until it succeeds or `stop` aborts, then hands the answer to the bot as `botInfo` (so
 * `bot.init()`, whose own retries are silent and endless, has nothing left to do). Returns false when
 * stopped first. Telegram's refusals (GrammyError, e.g. 401 for a wrong token) are thrown, as before.
 */
export async function initBotWhenReachable(
  bot: { api: Pick<Bot["api"], "getMe">; botInfo: Bot["botInfo"] },
  options: ReachabilityOptions,
  stop?: AbortSignal,
): Promise<boolean> {
  const state = new Reachability(options);
  const attemptTimeoutMs = options.attemptTimeoutMs ?? 15_000;
  options.logger.info({ apiRoot: options.apiRoot }, `connecting to Telegram at ${options.apiRoot}`);
  while (!stop?.aborted) {
    try {
      const signal = withTimeout(stop, attemptTimeoutMs) as unknown as Parameters<Bot["api"]["getMe"]>[0];
      bot.botInfo = await bot.api.getMe(signal);
      state.succeeded("getMe");
      return true;
    } catch (error) {
      if (stop?.aborted) break;
      if (error instanceof GrammyError || !isUnreachable(error)) throw error;
      await sleep(state.failed("getMe", error), stop);
    }
  }
  return false;
}

/**
 * API transformer for polling: a getUpdates that cannot reach Telegram is logged and retried with
 * backoff until it gets through or the runner stops (its abort signal). Other methods pass through.
 */
export function pollingReachability(options: ReachabilityOptions): Transformer {
  const state = new Reachability(options);
  const attemptTimeoutMs = options.attemptTimeoutMs ?? 15_000;
  return async (prev, method, payload, grammySignal) => {
    if (method !== "getUpdates") return prev(method, payload, grammySignal);
    // grammY types its signal with the abort-controller polyfill; at run time it is Node's AbortSignal.
    const signal = grammySignal as unknown as AbortSignal | undefined;
    const longPollMs = ((payload as { timeout?: number } | undefined)?.timeout ?? 0) * 1000;
    for (;;) {
      try {
        const attempt = withTimeout(signal, longPollMs + attemptTimeoutMs) as unknown as typeof grammySignal;
        const result = await prev(method, payload, attempt);
        state.succeeded(method);
        return result;
      } catch (error) {
        if (signal?.aborted || !isUnreachable(error)) throw error;
        await sleep(state.failed(method, error), signal);
        if (signal?.aborted) throw error;
      }
    }
  };
}
