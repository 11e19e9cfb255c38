import type { IncomingMessage, ServerResponse } from "node:http";
import {
  DEFAULT_SIGNATURE_TOLERANCE_S,
  OBUNA_SIGNATURE_HEADER,
  ObunaEventVerificationError,
  type PremiumEvent,
  verifyObunaEvent,
} from "@obuna/contracts/events";

export {
  DEFAULT_SIGNATURE_TOLERANCE_S,
  OBUNA_SIGNATURE_HEADER,
  type ObunaEventRefusal,
  ObunaEventVerificationError,
  PREMIUM_EVENT_TYPES,
  type PremiumEvent,
  type PremiumEventType,
  type VerifyObunaEventOptions,
  verifyObunaEvent,
} from "@obuna/contracts/events";

export interface ObunaEventsHandlerOptions {
  /** EVENTS_SIGNING_SECRET, as the Obuna operator shared it. */
  secret: string;
  /** Your own reaction, after the signature check and once per event id (in this process). */
  onEvent?: (event: PremiumEvent) => unknown;
  /** Largest accepted signature age in seconds (default 300). */
  toleranceS?: number;
  /** The receiver's clock (tests). */
  clock?: () => Date;
  /** How many recent event ids are remembered to acknowledge a repeat without acting twice (default 10 000). */
  rememberIds?: number;
  /** Larger bodies are refused with 413 (default 64 KiB). */
  maxBodyBytes?: number;
}

/** What the handler needs of the plugin: dropping a user's cached entitlement. */
export interface PremiumInvalidator {
  invalidate(telegramId: number): void;
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

/**
 * The webhook a host mounts at the URL it gave the Obuna operator (EVENTS_ENDPOINTS), as a web-standard
 * `(Request) => Promise<Response>` (Hono, Next.js route handlers, Bun, Deno; `toNodeListener` for
 * node:http and Express). It verifies `Obuna-Signature` over the raw body, drops the user's cached
 * entitlement (`invalidate(telegram_id)`: the next `ctx.premium` asks the gateway), then calls
 * `onEvent`. Answers: 200 (also for an event id seen before: acknowledged, not acted on twice),
 * 400 for a missing/bad/stale signature or a malformed body, 405, 413, and 500 when `onEvent` threw
 * (Obuna retries it later with the same event id).
 */
export function obunaEventsHandler(target: PremiumInvalidator, options: ObunaEventsHandlerOptions) {
  const seen = new Set<string>();
  const remember = options.rememberIds ?? 10_000;
  const maxBytes = options.maxBodyBytes ?? 64 * 1024;
  return async (request: Request): Promise<Response> => {
    if (request.method !== "POST") return json(405, { error: "method_not_allowed" });
    const length = Number(request.headers.get("content-length") ?? 0);
    if (length > maxBytes) return json(413, { error: "too_large" });
    const rawBody = await request.text();
    if (Buffer.byteLength(rawBody) > maxBytes) return json(413, { error: "too_large" });
    let event: PremiumEvent;
    try {
      event = verifyObunaEvent(rawBody, request.headers.get(OBUNA_SIGNATURE_HEADER), options.secret, {
        toleranceS: options.toleranceS ?? DEFAULT_SIGNATURE_TOLERANCE_S,
        now: options.clock?.() ?? new Date(),
      });
    } catch (error) {
      if (error instanceof ObunaEventVerificationError) return json(400, { error: error.reason });
      throw error;
    }
    target.invalidate(event.telegram_id);
    if (seen.has(event.id)) return json(200, { received: true, duplicate: true });
    try {
      await options.onEvent?.(event);
    } catch {
      return json(500, { error: "handler_failed" });
    }
    seen.add(event.id);
    if (seen.size > remember) seen.delete(seen.values().next().value as string);
    return json(200, { received: true });
  };
}

/**
 * Mounts a web-standard handler on node:http (or Express, before any body parser):
 * `createServer(toNodeListener(plugin.eventsHandler({ secret })))`.
 */
export function toNodeListener(handler: (request: Request) => Promise<Response>) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === "string") headers.set(name, value);
        else if (Array.isArray(value)) headers.set(name, value.join(", "));
      }
      const method = req.method ?? "GET";
      const request = new Request(`http://localhost${req.url ?? "/"}`, {
        method,
        headers,
        ...(method === "GET" || method === "HEAD" ? {} : { body: Buffer.concat(chunks) }),
      });
      const response = await handler(request);
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(Buffer.from(await response.arrayBuffer()));
    } catch {
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "internal" }));
    }
  };
}
