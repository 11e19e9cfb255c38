import { z } from "@hono/zod-openapi";
import { ERROR_STATUS, type ErrorCode, ErrorEnvelopeSchema } from "@obuna/contracts/errors";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { HonoEnv } from "./context";
import { requestLogger } from "./middleware/init";
import type { ServiceResult } from "./services/outcome";

/** The one error the gateway throws for a known outcome; `app.onError` turns it into the envelope. */
export class ApiError extends HTTPException {
  readonly code: ErrorCode;
  readonly field: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    extra: { field?: string; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(ERROR_STATUS[code] as ContentfulStatusCode, { message, cause: extra.cause });
    this.name = "ApiError";
    this.code = code;
    this.field = extra.field;
    this.details = extra.details;
  }
}

export function statusOf(code: ErrorCode): ContentfulStatusCode {
  return ERROR_STATUS[code] as ContentfulStatusCode;
}

export function errorBody(
  c: Context<HonoEnv>,
  code: ErrorCode,
  message: string,
  extra: { field?: string; details?: Record<string, unknown> } = {},
) {
  return {
    success: false as const,
    error: {
      code,
      message,
      requestId: c.get("requestId") ?? "unknown",
      ...(extra.field ? { field: extra.field } : {}),
      ...(extra.details ? { details: extra.details } : {}),
    },
  };
}

export function errorResponse(
  c: Context<HonoEnv>,
  code: ErrorCode,
  message: string,
  extra: { field?: string; details?: Record<string, unknown> } = {},
) {
  return c.json(errorBody(c, code, message, extra), statusOf(code));
}

/** The zod-openapi `defaultHook`: every validation failure names its field. */
export function validationHook(
  result: { success: true } | { success: false; error: z.ZodError; target?: string },
  c: Context<HonoEnv>,
) {
  if (result.success) return;
  const issue = result.error.issues[0];
  const field = issue?.path.length ? issue.path.join(".") : undefined;
  const message = issue ? `${field ? `${field}: ` : ""}${issue.message}` : "invalid request";
  return errorResponse(c, "VALIDATION_ERROR", message, {
    ...(field ? { field } : {}),
    details: {
      issues: result.error.issues.slice(0, 10).map((i) => ({ field: i.path.join("."), message: i.message })),
    },
  });
}

/**
 * Postgres refuses U+0000 in text (22021) and in jsonb (22P05). Such a value comes only from the
 * request, so it is the caller's error (found by the fuzz tests), not a 500. Drizzle wraps the
 * driver's error in `cause`.
 */
function isUnstorableText(error: unknown): boolean {
  for (let e = error, depth = 0; e && typeof e === "object" && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === "22021" || code === "22P05") return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** Maps anything thrown in a handler to the envelope; never leaks internals, never a card number. */
export function handleError(error: Error, c: Context<HonoEnv>) {
  if (error instanceof ApiError) {
    // A 429 says when to come back (RFC 9110 Retry-After, seconds).
    const retryAfterS = error.details?.retry_after_s;
    if (error.status === 429 && typeof retryAfterS === "number") c.header("Retry-After", String(retryAfterS));
    return errorResponse(c, error.code, error.message, {
      ...(error.field ? { field: error.field } : {}),
      ...(error.details ? { details: error.details } : {}),
    });
  }
  if (error instanceof HTTPException) {
    const status = error.status;
    if (status === 400 && /json/i.test(error.message)) {
      return errorResponse(c, "INVALID_JSON", "The request body is not valid JSON");
    }
    const contentType = c.req.header("content-type") ?? "";
    if (
      (status === 400 || status === 415) &&
      c.req.method !== "GET" &&
      !/application\/json/i.test(contentType)
    ) {
      return errorResponse(
        c,
        "VALIDATION_ERROR",
        "The body must be JSON with Content-Type: application/json",
        {
          field: "Content-Type",
        },
      );
    }
    if (status === 413) return errorResponse(c, "PAYLOAD_TOO_LARGE", "The request body is too large");
    if (status === 401) return errorResponse(c, "UNAUTHORIZED", "Authentication required");
    if (status === 404) return errorResponse(c, "NOT_FOUND", "Not found");
    if (status < 500) return errorResponse(c, "VALIDATION_ERROR", "Bad request");
  }
  if (error instanceof SyntaxError) {
    return errorResponse(c, "INVALID_JSON", "The request body is not valid JSON");
  }
  if (isUnstorableText(error)) {
    return errorResponse(c, "VALIDATION_ERROR", "A text value contains U+0000, which is not allowed");
  }
  if (c.get("deps"))
    requestLogger(c).error(
      { err: { name: error.name, message: error.message, stack: error.stack } },
      "unhandled error",
    );
  c.get("deps")?.errorReporter?.capture(error, {
    requestId: c.get("requestId") ?? null,
    route: `${c.req.method} ${c.req.routePath}`,
  });
  return errorResponse(c, "INTERNAL_ERROR", "Internal error");
}

const errorContent = { "application/json": { schema: ErrorEnvelopeSchema } };

/** Shared OpenAPI error responses, spread into every route's `responses`. */
export const errorResponses = {
  400: { description: "Validation error, invalid JSON or a refused value", content: errorContent },
  401: { description: "Missing or invalid credentials", content: errorContent },
  403: { description: "The caller may not reach this resource", content: errorContent },
  404: { description: "Not found", content: errorContent },
  409: { description: "State conflict or idempotent request in progress", content: errorContent },
  410: { description: "Payment session expired", content: errorContent },
  413: { description: "Request body too large", content: errorContent },
  422: { description: "Idempotency-Key reused with another body", content: errorContent },
  429: { description: "Too many attempts / too soon", content: errorContent },
  402: { description: "Card declined", content: errorContent },
  500: { description: "Internal error", content: errorContent },
  503: { description: "A dependency (ATMOS, database, Redis) is unavailable", content: errorContent },
} as const;

export { z };

/** The edge: a step's answer, or its refusal as the gateway's error envelope (ApiError). */
export function orApiError<T>(result: ServiceResult<T>): T {
  if (result.ok) return result.value;
  const { code, message, field, details, cause } = result.refusal;
  throw new ApiError(code, message, {
    ...(field === undefined ? {} : { field }),
    ...(details === undefined ? {} : { details }),
    ...(cause === undefined ? {} : { cause }),
  });
}
