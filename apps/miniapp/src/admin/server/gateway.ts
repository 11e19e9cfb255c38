import { randomUUID } from "node:crypto";
import { serverEnv } from "../../env";

/**
 * The Mini App server's client for the gateway admin API (`/api/v1/admin/*`). Only server code
 * (getServerSideProps, API routes) imports it: the session token travels as `Bearer` from here,
 * the browser only ever holds it in an httpOnly cookie, and ADMIN_TOKEN never reaches the browser.
 */
export type AdminResult<T> =
  | { ok: true; data: T }
  | { ok: false; status: number; code: string; message: string; requestId: string | null };

export interface AdminRequest {
  method?: "GET" | "POST";
  /** Below `/api/v1/admin/`, e.g. `payments` or `cards/12/deactivate`. */
  path: string;
  /** Bearer credential: the session token from the cookie (absent only for the sign-in calls). */
  bearer?: string;
  /** Telegram Mini App initData, sent as `tma <initData>` (only for `session/telegram`). */
  telegramInitData?: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
  idempotencyKey?: string;
  /**
   * The browser's address, for the gateway's per-IP sign-in limit: sent as `x-obuna-client-ip`,
   * which the gateway believes only from TRUSTED_PROXY_IPS (this server's address).
   */
  clientIp?: string;
}

interface Envelope {
  success?: boolean;
  data?: unknown;
  error?: { code?: unknown; message?: unknown; requestId?: unknown };
}

export interface AdminGatewayConfig {
  gatewayUrl: string;
  timeoutMs: number;
}

export function createAdminGateway(config: AdminGatewayConfig) {
  const base = config.gatewayUrl.replace(/\/+$/, "");
  return async function adminCall<T>(request: AdminRequest): Promise<AdminResult<T>> {
    const url = new URL(`${base}/api/v1/admin/${request.path}`);
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined && value !== "") url.searchParams.set(key, value);
    }
    const headers = new Headers({ accept: "application/json" });
    if (request.bearer) headers.set("authorization", `Bearer ${request.bearer}`);
    else if (request.telegramInitData) headers.set("authorization", `tma ${request.telegramInitData}`);
    if (request.body !== undefined) headers.set("content-type", "application/json");
    if (request.clientIp) headers.set("x-obuna-client-ip", request.clientIp);
    if (request.method === "POST") headers.set("idempotency-key", request.idempotencyKey ?? randomUUID());
    let response: Response;
    try {
      response = await fetch(url, {
        method: request.method ?? "GET",
        headers,
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        signal: AbortSignal.timeout(config.timeoutMs),
        redirect: "manual",
      });
    } catch {
      return {
        ok: false,
        status: 503,
        code: "SERVICE_UNAVAILABLE",
        message: "The gateway is not reachable; nothing was changed by this page. Try again.",
        requestId: null,
      };
    }
    let envelope: Envelope | null = null;
    try {
      envelope = (await response.json()) as Envelope;
    } catch {}
    if (response.ok && envelope?.success === true) return { ok: true, data: envelope.data as T };
    const error = envelope?.error;
    return {
      ok: false,
      status: response.ok ? 502 : response.status,
      code: typeof error?.code === "string" ? error.code : `HTTP_${response.status}`,
      message:
        typeof error?.message === "string" ? error.message : `The gateway answered HTTP ${response.status}`,
      requestId: typeof error?.requestId === "string" ? error.requestId : null,
    };
  };
}

export type AdminCall = ReturnType<typeof createAdminGateway>;

let cached: AdminCall | undefined;

/** One client per server process, configured from the validated environment. */
export function adminGateway(): AdminCall {
  if (!cached) {
    const env = serverEnv();
    cached = createAdminGateway({ gatewayUrl: env.GATEWAY_URL, timeoutMs: env.GATEWAY_TIMEOUT_MS });
  }
  return cached;
}
