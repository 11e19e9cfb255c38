import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import { maskCardNumbersIn } from "@obuna/contracts/card";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { Logger } from "pino";
import type { GatewayDeps, HonoEnv } from "../context";
import type { GatewayMetrics } from "../metrics";
import type { AbuseLimits } from "./rate-limit";

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Sets the request id (header in and out) and the services; counts and logs the request. */
export function initMiddleware(deps: GatewayDeps & { metrics: GatewayMetrics; limits: AbuseLimits }) {
  // The request line's fields are scalars this middleware writes itself (the path with card numbers
  // masked), so the redaction of the gateway's logger (nested secret fields) has nothing to find in
  // them: the line is written without it (its walk over every line was ~2 % of create-link's CPU).
  const requestLines = deps.logger.child({}, { redact: [] });
  return createMiddleware<HonoEnv>(async (c, next) => {
    const incoming = c.req.header("x-request-id");
    // An id that holds a card-number-like run of digits is replaced too: it goes on every log line.
    const requestId =
      incoming && REQUEST_ID.test(incoming) && maskCardNumbersIn(incoming) === incoming
        ? incoming
        : `req_${randomUUID()}`;
    c.set("requestId", requestId);
    // Set before the response exists (and never read back from it): touching a finished Response's
    // headers forces the Node adapter off its fast path. Responses built later (onError, notFound)
    // carry it too. Under the Node server it goes on Node's own response, which merges it into the
    // head it writes: `c.header` would give every response a WHATWG Headers object that the adapter
    // then copies back into Node's form (≈ 3 % of create-link's CPU, docs/benchmarks.md).
    const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
    if (outgoing && typeof outgoing.setHeader === "function") outgoing.setHeader("x-request-id", requestId);
    else c.header("x-request-id", requestId);
    c.set("deps", deps);
    const started = performance.now();
    try {
      await next();
    } finally {
      const route = c.req.routePath || "unmatched";
      deps.metrics.httpRequests.inc({ method: c.req.method, route, status: String(c.res.status) });
      deps.metrics.httpDuration.observe(
        { method: c.req.method, route },
        (performance.now() - started) / 1000,
      );
      // Only the method and path are logged: never bodies (card numbers, OTPs) or auth headers.
      requestLines.info(
        {
          requestId,
          method: c.req.method,
          // A card number typed into a URL (as a Telegram id, or on no route at all) is not logged.
          path: maskCardNumbersIn(c.req.path),
          status: c.res.status,
          ms: Math.round(performance.now() - started),
        },
        "request",
      );
    }
  });
}

/**
 * The request's logger: every line carries the request id. Made on the first line a request logs
 * besides its request line (most log none), not for every request.
 */
export function requestLogger(c: Context<HonoEnv>): Logger {
  let logger = c.get("logger");
  if (logger === undefined) {
    logger = c.get("deps").logger.child({ requestId: c.get("requestId") });
    c.set("logger", logger);
  }
  return logger;
}
