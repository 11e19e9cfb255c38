import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { successEnvelope } from "@obuna/contracts/errors";
import type { HonoEnv } from "../context";
import { errorResponses } from "../errors";

export type GatewayApp = OpenAPIHono<HonoEnv>;
export { createRoute, z };

export const bearerSecurity: Array<Record<string, string[]>> = [{ internalToken: [] }];
export const eitherSecurity: Array<Record<string, string[]>> = [
  { internalToken: [] },
  { telegramInitData: [] },
];

/**
 * The Idempotency-Key header, for the spec only: the idempotency middleware checks the key itself
 * (1–255 printable ASCII characters). Declared as `parameters` rather than `request.headers`, whose zod
 * validator copies every request header into a new Headers object on each request (about 6 % of
 * create-link's CPU, docs/benchmarks.md) to check a header that is optional anyway.
 */
export const idempotencyParameters = [
  {
    schema: {
      type: "string",
      description: "Replays the first response for 24 h; another body with the same key → 422",
    },
    required: false,
    description: "Replays the first response for 24 h; another body with the same key → 422",
    name: "idempotency-key",
    in: "header",
  },
] as const satisfies ReadonlyArray<Record<string, unknown>>;

export function jsonBody<T extends z.ZodType>(schema: T) {
  return { content: { "application/json": { schema } }, required: true } as const;
}

export function okResponse<T extends z.ZodType>(schema: T, description: string) {
  return {
    200: { description, content: { "application/json": { schema: successEnvelope(schema) } } },
    ...errorResponses,
  } as const;
}

export const TelegramIdParam = z.coerce
  .number()
  .int()
  .positive()
  .max(Number.MAX_SAFE_INTEGER)
  .openapi({ param: { name: "telegram_id", in: "path" }, example: 123456789 });

export const IdParam = (name: string) =>
  z.coerce
    .number()
    .int()
    .positive()
    .max(Number.MAX_SAFE_INTEGER)
    .openapi({ param: { name, in: "path" }, example: 1 });

/**
 * The same endpoint under an older path, answering identically (same schemas, middleware and
 * handler): the seed's `/api/v1/atmos/*` checkout paths. Hidden from the generated document;
 * `documentAlias` lists it there as a deprecated pointer to the new path.
 */
export function deprecatedAlias<R extends { path: string }>(route: R, path: string): R {
  return createRoute({
    ...(route as unknown as Parameters<typeof createRoute>[0]),
    path,
    hide: true,
  }) as unknown as R;
}

/**
 * The OpenAPI entry of a deprecated alias: `deprecated: true` and `x-alias-of` naming the current
 * path, whose entry documents the request, the answer and every error (the alias answers exactly as
 * it; test/contract.test.ts checks that the named path exists and is complete).
 */
export function documentAlias(
  app: GatewayApp,
  current: { method: string; path: string; security?: Array<Record<string, string[]>> },
  aliasPath: string,
) {
  app.openAPIRegistry.registerPath({
    method: current.method as "post",
    path: aliasPath,
    tags: ["atmos"],
    deprecated: true,
    summary: `Deprecated: use ${current.method.toUpperCase()} ${current.path}`,
    "x-alias-of": current.path,
    ...(current.security ? { security: current.security } : {}),
    responses: { 200: { description: `As ${current.path}` } },
  } as Parameters<GatewayApp["openAPIRegistry"]["registerPath"]>[0]);
}
