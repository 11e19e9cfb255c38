import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * The browser talks only to the Mini App's own origin; this forwards an allow-listed set of
 * gateway endpoints server-side. Bodies pass through untouched and are never logged (a pre-apply
 * body carries a card number that may live only in memory for one request).
 */
export interface GatewayProxyConfig {
  gatewayUrl: string;
  timeoutMs: number;
}

const MAX_BODY_BYTES = 16 * 1024;

/** Gateway paths (below /api/v1/) the Mini App may call, with their methods. */
const ROUTES: ReadonlyArray<{ method: string; pattern: RegExp }> = [
  { method: "GET", pattern: /^payment\/session\/[0-9a-f-]{36}$/i },
  { method: "POST", pattern: /^payment\/session\/[0-9a-f-]{36}\/stars-invoice$/i },
  { method: "POST", pattern: /^atmos\/(create|pre-apply|resend-otp|apply)$/ },
  { method: "GET", pattern: /^user\/\d{1,16}\/(subscription|payments|cards)$/ },
  { method: "DELETE", pattern: /^user\/\d{1,16}\/cards\/\d{1,16}$/ },
  { method: "POST", pattern: /^subscription\/\d{1,16}\/(cancel|resume)$/ },
  { method: "PUT", pattern: /^user\/\d{1,16}\/language$/ },
];

/** The gateway's accepted form of `x-request-id` (apps/gateway/src/middleware/init.ts). */
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The id this request carries to the gateway (and back in the answer): a well-formed incoming
 * `x-request-id` is kept, anything else is replaced by a new `miniapp_<uuid>`.
 */
export function requestIdOf(header: string | string[] | undefined): string {
  return typeof header === "string" && REQUEST_ID.test(header) ? header : `miniapp_${randomUUID()}`;
}

const FORWARDED_REQUEST_HEADERS = ["authorization", "idempotency-key", "content-type", "accept-language"];
const FORWARDED_RESPONSE_HEADERS = ["content-type", "x-request-id", "retry-after"];

type ProxyErrorCode = "NOT_FOUND" | "METHOD_NOT_ALLOWED" | "PAYLOAD_TOO_LARGE" | "SERVICE_UNAVAILABLE";

function sendError(
  res: ServerResponse,
  status: number,
  code: ProxyErrorCode,
  message: string,
  requestId: string,
): void {
  res.statusCode = status;
  res.setHeader("content-type", "application/json; charset=utf-8");
  res.setHeader("cache-control", "no-store");
  res.setHeader("x-request-id", requestId);
  res.end(JSON.stringify({ success: false, error: { code, message, requestId } }));
}

async function readBody(req: IncomingMessage): Promise<Buffer | "too_large"> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
    size += buffer.length;
    if (size > MAX_BODY_BYTES) return "too_large";
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** `/api/gw/atmos/apply?x=1` → `atmos/apply` (query strings are not forwarded). */
export function gatewayPathOf(url: string | undefined): string {
  const pathname = new URL(url ?? "/", "http://miniapp.local").pathname;
  return pathname.replace(/^\/api\/gw\/?/, "");
}

export function isAllowedRoute(method: string, path: string): "ok" | "not_found" | "method_not_allowed" {
  const matches = ROUTES.filter((route) => route.pattern.test(path));
  if (matches.length === 0) return "not_found";
  return matches.some((route) => route.method === method) ? "ok" : "method_not_allowed";
}

export function createGatewayProxy(config: GatewayProxyConfig) {
  const base = config.gatewayUrl.replace(/\/+$/, "");
  return async function proxyToGateway(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? "GET").toUpperCase();
    const requestId = requestIdOf(req.headers["x-request-id"]);
    const path = gatewayPathOf(req.url);
    const allowed = isAllowedRoute(method, path);
    if (allowed === "not_found") return sendError(res, 404, "NOT_FOUND", "Unknown endpoint", requestId);
    if (allowed === "method_not_allowed")
      return sendError(res, 405, "METHOD_NOT_ALLOWED", "Method not allowed", requestId);

    const headers = new Headers();
    for (const name of FORWARDED_REQUEST_HEADERS) {
      const value = req.headers[name];
      if (typeof value === "string") headers.set(name, value);
    }
    // The gateway logs every line of this request under it and echoes it back.
    headers.set("x-request-id", requestId);
    const clientIp = req.socket.remoteAddress;
    if (clientIp) headers.set("x-forwarded-for", clientIp);

    let body: Buffer | undefined;
    if (method !== "GET" && method !== "DELETE") {
      const read = await readBody(req);
      if (read === "too_large")
        return sendError(res, 413, "PAYLOAD_TOO_LARGE", "Request body too large", requestId);
      body = read;
    }

    let upstream: Response;
    try {
      upstream = await fetch(`${base}/api/v1/${path}`, {
        method,
        headers,
        body: body ? new Uint8Array(body) : undefined,
        signal: AbortSignal.timeout(config.timeoutMs),
        redirect: "manual",
      });
    } catch {
      return sendError(res, 503, "SERVICE_UNAVAILABLE", "The payment service is not reachable", requestId);
    }

    res.statusCode = upstream.status;
    for (const name of FORWARDED_RESPONSE_HEADERS) {
      const value = upstream.headers.get(name);
      if (value) res.setHeader(name, value);
    }
    res.setHeader("cache-control", "no-store");
    res.end(Buffer.from(await upstream.arrayBuffer()));
  };
}
