import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import type { HonoEnv } from "../context";
import { ApiError } from "../errors";

const tooLarge = () => {
  throw new ApiError("PAYLOAD_TOO_LARGE", "The request body is too large");
};

/**
 * Refuses request bodies over `maxBytes` with 413 PAYLOAD_TOO_LARGE.
 *
 * A body with a Content-Length (and no Transfer-Encoding) is judged by that header alone: Node's
 * HTTP parser never delivers more bytes than it declares. Only chunked bodies go through Hono's
 * `bodyLimit`, which counts while it reads. Hono's middleware reaches for `c.req.raw.body` even
 * when the header settles it, and on the Node adapter that builds a full WHATWG Request for every
 * POST (a seventh of create-link's CPU time in `pnpm bench gateway`); the endpoint's own
 * `c.req.json()` then reads the body straight from the socket instead.
 */
export function limitRequestBody(maxBytes: number) {
  const countWhileReading = bodyLimit({ maxSize: maxBytes, onError: tooLarge });
  return createMiddleware<HonoEnv>((c, next) => {
    const method = c.req.method;
    if (method === "GET" || method === "HEAD") return next();
    const declared = c.req.header("content-length");
    if (declared !== undefined && c.req.header("transfer-encoding") === undefined) {
      // Node's parser has already refused a malformed Content-Length with 400.
      return Number(declared) > maxBytes ? tooLarge() : next();
    }
    return countWhileReading(c, next);
  });
}
