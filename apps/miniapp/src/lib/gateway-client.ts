/**
 * Browser side of the gateway calls. Everything goes to this origin's `/api/gw/*` proxy with
 * `Authorization: tma <initData>`. Mutating calls carry an `Idempotency-Key` that stays the same
 * when the same action is retried (see `IdempotencyKeys`), so a retry never pays twice.
 */

export interface GatewayError {
  /** A gateway error code, or `NETWORK` when no answer came back. */
  code: string;
  message: string;
  status: number;
  field?: string;
  details?: Record<string, unknown>;
  /** 429 answers: seconds until the gateway accepts the call again (its Retry-After header). */
  retryAfterS?: number;
}

function retryAfterOf(response: Response): number | undefined {
  const value = response.headers.get("retry-after")?.trim();
  return value && /^\d{1,7}$/.test(value) ? Number(value) : undefined;
}

export type GatewayResult<T> = { ok: true; data: T } | { ok: false; error: GatewayError };

export interface GatewayAuth {
  /** The value after `tma `: raw initData, or `dev:<telegram_id>` in development. */
  token: string;
}

export async function callGateway<T>(
  auth: GatewayAuth,
  method: "GET" | "POST" | "PUT" | "DELETE",
  path: string,
  options: { body?: unknown; idempotencyKey?: string } = {},
): Promise<GatewayResult<T>> {
  const headers: Record<string, string> = { authorization: `tma ${auth.token}`, accept: "application/json" };
  if (options.body !== undefined) headers["content-type"] = "application/json";
  if (options.idempotencyKey) headers["idempotency-key"] = options.idempotencyKey;
  let response: Response;
  try {
    response = await fetch(`/api/gw/${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      cache: "no-store",
    });
  } catch {
    return { ok: false, error: { code: "NETWORK", message: "network error", status: 0 } };
  }
  let payload: unknown = null;
  try {
    payload = await response.json();
  } catch {}
  const envelope = payload as { success?: boolean; data?: T; error?: Omit<GatewayError, "status"> } | null;
  if (response.ok && envelope?.success === true) return { ok: true, data: envelope.data as T };
  if (envelope?.error?.code) {
    const retryAfterS = response.status === 429 ? retryAfterOf(response) : undefined;
    return {
      ok: false,
      error: {
        ...envelope.error,
        status: response.status,
        ...(retryAfterS === undefined ? {} : { retryAfterS }),
      },
    };
  }
  return {
    ok: false,
    error: {
      code: response.status >= 500 ? "SERVICE_UNAVAILABLE" : "UNKNOWN",
      message: "unexpected answer",
      status: response.status,
    },
  };
}

function newKey(): string {
  if (typeof crypto !== "undefined" && typeof crypto.randomUUID === "function") return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}-${Math.random().toString(36).slice(2)}`;
}

/**
 * One key per user action. Retrying the same action (same operation, same request) reuses the key;
 * anything else gets a new one. Only a hash of the request is kept, never the card number itself.
 */
export class IdempotencyKeys {
  private readonly keys = new Map<string, { fingerprint: number; key: string }>();

  keyFor(operation: string, request: unknown): string {
    const fingerprint = hashString(JSON.stringify(request ?? null));
    const existing = this.keys.get(operation);
    if (existing && existing.fingerprint === fingerprint) return existing.key;
    const key = newKey();
    this.keys.set(operation, { fingerprint, key });
    return key;
  }

  /** After a definite answer the action is over: the next tap is a new action. */
  done(operation: string): void {
    this.keys.delete(operation);
  }
}

function hashString(value: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) {
    hash ^= value.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Errors after which the same request may simply be sent again with the same key. */
export function isRetryable(error: GatewayError): boolean {
  return (
    error.code === "NETWORK" ||
    error.code === "SERVICE_UNAVAILABLE" ||
    error.code === "PAYMENT_PROVIDER_UNAVAILABLE" ||
    error.code === "IDEMPOTENCY_IN_PROGRESS" ||
    error.code === "RATE_LIMITED" ||
    error.code === "INTERNAL_ERROR"
  );
}

/**
 * A mutating call as one user action: the key is kept only when the answer says "send the same
 * request again" (network, 5xx, in progress); after a definite answer — success or a 4xx such as
 * WRONG_OTP — the action is over, so the next tap (even with the same code) is a new action.
 */
export async function sendAction<T>(
  auth: GatewayAuth,
  keys: IdempotencyKeys,
  operation: string,
  method: "POST" | "DELETE",
  path: string,
  body: unknown,
  fingerprint: unknown = body,
): Promise<GatewayResult<T>> {
  const result = await callGateway<T>(auth, method, path, {
    body,
    idempotencyKey: keys.keyFor(operation, fingerprint),
  });
  if (result.ok || !isRetryable(result.error)) keys.done(operation);
  return result;
}
