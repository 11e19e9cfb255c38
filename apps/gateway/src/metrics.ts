import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

/** One registry per app instance (tests build several apps in one process). */
export function createMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry });
  const httpRequests = new Counter({
    name: "gateway_http_requests_total",
    help: "HTTP requests by method, route and status",
    labelNames: ["method", "route", "status"] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: "gateway_http_request_duration_seconds",
    help: "HTTP request duration",
    labelNames: ["method", "route"] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const payments = new Counter({
    name: "gateway_payments_total",
    help: "Payment outcomes (success, failed, unknown, declined)",
    labelNames: ["outcome"] as const,
    registers: [registry],
  });
  const atmosCalls = new Histogram({
    name: "gateway_atmos_call_duration_seconds",
    help: "ATMOS API call latency by method and outcome",
    labelNames: ["method", "outcome"] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const callbacks = new Counter({
    name: "gateway_atmos_callbacks_total",
    help: "ATMOS callbacks by reply status",
    labelNames: ["status"] as const,
    registers: [registry],
  });
  const callbacksBadSignature = new Counter({
    name: "gateway_atmos_callbacks_bad_signature_total",
    help: "ATMOS callbacks refused for a missing or wrong sign (counted, not stored)",
    registers: [registry],
  });
  const callbacksRefusedTooLarge = new Counter({
    name: "gateway_atmos_callbacks_oversized_total",
    help: "ATMOS callbacks refused because a field was over its size bound (not stored)",
    registers: [registry],
  });
  const rateLimited = new Counter({
    name: "gateway_rate_limited_total",
    help: "Requests refused with 429 RATE_LIMITED, by limit",
    labelNames: ["limit"] as const,
    registers: [registry],
  });
  return {
    registry,
    httpRequests,
    httpDuration,
    payments,
    atmosCalls,
    callbacks,
    callbacksBadSignature,
    callbacksRefusedTooLarge,
    rateLimited,
  };
}

export type GatewayMetrics = ReturnType<typeof createMetrics>;
