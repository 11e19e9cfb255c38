import { maskCardNumbersIn } from "./card";

/**
 * Optional error reporting to Sentry. With `SENTRY_DSN` unset nothing is loaded or sent.
 * Only what we hand to `capture` is sent (no automatic request, breadcrumb or body capture), and
 * every string of the event is scrubbed of full card numbers before it leaves the process.
 */
export interface ErrorReporter {
  readonly enabled: boolean;
  capture(error: unknown, context?: Record<string, string | number | boolean | null>): void;
  flush(timeoutMs?: number): Promise<void>;
}

export const noopErrorReporter: ErrorReporter = {
  enabled: false,
  capture() {},
  async flush() {},
};

function scrub<T>(value: T): T {
  if (typeof value === "string") return maskCardNumbersIn(value) as T;
  if (Array.isArray(value)) return value.map(scrub) as T;
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v)])) as T;
  }
  return value;
}

export async function createErrorReporter(options: {
  dsn: string | undefined;
  app: string;
  environment?: string;
}): Promise<ErrorReporter> {
  if (!options.dsn) return noopErrorReporter;
  const Sentry = await import("@sentry/node");
  Sentry.init({
    dsn: options.dsn,
    serverName: options.app,
    environment: options.environment ?? "production",
    defaultIntegrations: false,
    tracesSampleRate: 0,
    beforeSend: (event) => scrub(event),
  });
  return {
    enabled: true,
    capture(error, context) {
      Sentry.captureException(error, context ? { tags: { app: options.app }, extra: context } : undefined);
    },
    async flush(timeoutMs = 2000) {
      await Sentry.flush(timeoutMs);
    },
  };
}
