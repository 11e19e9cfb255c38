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

export const idempotencyHeader = z.object({
  "idempotency-key": z
    .string()
    .optional()
    .openapi({ description: "Replays the first response for 24 h; another body with the same key → 422" }),
});

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
