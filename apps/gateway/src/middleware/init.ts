import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import { maskCardNumbersIn } from "@obuna/contracts/card";
import { createMiddleware } from "hono/factory";
import type { GatewayDeps, HonoEnv } from "../context";
import type { GatewayMetrics } from "../metrics";
import type { AbuseLimits } from "./rate-limit";

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Sets the request id (header in and out), a child logger and the services; counts the request. */
export function initMiddleware(deps: GatewayDeps & { metrics: GatewayMetrics; limits: AbuseLimits }) {
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
    // Only the method and path are logged: never bodies (card numbers, OTPs) or auth headers.
    c.set("logger", deps.logger.child({ requestId }));
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
      c.get("logger").info(
        {
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
