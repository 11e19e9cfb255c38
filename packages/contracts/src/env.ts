import { z } from "zod";

export class EnvError extends Error {
  constructor(
    readonly app: string,
    readonly problems: string[],
  ) {
    super(`${app}: invalid environment:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "EnvError";
  }
}

/**
 * What a variable is to the production guard, declared once in the app's env schema:
 * - `secret`: a secret we generate (token, key). In production: not a published example value, and
 *   at least `MIN_PRODUCTION_SECRET_LENGTH` characters.
 * - `issued-secret`: a secret someone else issues with their own format (ATMOS consumer key and secret,
 *   callback key, the Telegram bot token). In production: not a published example value (we cannot
 *   choose its length: WSO2 consumer keys are 28 characters).
 * - `dev-only`: a development switch that must be off in production.
 */
export type EnvRole = "secret" | "issued-secret" | "dev-only";

const envRoles = z.registry<{ role: EnvRole }>();

/** Marks a variable as a secret we generate: `ADMIN_TOKEN: secret(z.string().min(16)).optional()`. */
export function secret<T extends z.ZodType>(schema: T): T {
  envRoles.add(schema, { role: "secret" });
  return schema;
}

/** Marks a secret issued by a provider (ATMOS, Telegram): checked against example values only. */
export function issuedSecret<T extends z.ZodType>(schema: T): T {
  envRoles.add(schema, { role: "issued-secret" });
  return schema;
}

/** Marks a development switch: refused in production unless off (unset, false or 0). */
export function devOnly<T extends z.ZodType>(schema: T): T {
  envRoles.add(schema, { role: "dev-only" });
  return schema;
}

export const MIN_PRODUCTION_SECRET_LENGTH = 32;

/**
 * The secret values published in `.env.example`, the ATMOS sandbox defaults and the docs. Anyone can
 * read them, so none of them may be a production secret, in any variable. They are constants because
 * a production image has no `.env.example` to read; `packages/contracts/test/env.test.ts` checks that
 * they match `.env.example` so the two cannot drift apart.
 */
export const PUBLISHED_EXAMPLE_SECRETS: Readonly<Record<string, string>> = {
  ATMOS_CONSUMER_KEY: "sandbox_consumer_key",
  ATMOS_CONSUMER_SECRET: "sandbox_consumer_secret",
  ATMOS_CALLBACK_API_KEY: "sandbox_callback_api_key",
  INTERNAL_API_TOKEN: "dev-internal-token-change-me",
  ADMIN_TOKEN: "dev-admin-token-change-me",
  CARD_TOKEN_KEY: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
  IDEMPOTENCY_HASH_KEY: "dev-idempotency-hash-key-change-me-0123456789",
  BOT_TOKEN: "123456:local-development-token",
  METRICS_TOKEN: "dev-metrics-token-change-me",
  EVENTS_SIGNING_SECRET: "dev-events-signing-secret-change-me",
};
/**
 * Example secrets published inside structured variables (the SERVICE_TOKENS token of `.env.example`,
 * docs/integration.md and examples/host-bot): refused in production like the ones above.
 */
export const PUBLISHED_EXAMPLE_NESTED_SECRETS: readonly string[] = ["dev-assistant-token-change-me"];
const publishedValues = new Set([
  ...Object.values(PUBLISHED_EXAMPLE_SECRETS),
  ...PUBLISHED_EXAMPLE_NESTED_SECRETS,
]);

/** The role a schema field was declared with, looking through `.optional()`, `.default()`, pipes. */
export function envRoleOf(field: z.ZodType): EnvRole | undefined {
  let current: z.ZodType | undefined = field;
  for (let depth = 0; current && depth < 8; depth++) {
    const meta = envRoles.get(current);
    if (meta) return meta.role;
    const def: { innerType?: z.ZodType; in?: z.ZodType } = (
      current as unknown as { _zod: { def: { innerType?: z.ZodType; in?: z.ZodType } } }
    )._zod.def;
    current = def.innerType ?? def.in;
  }
  return undefined;
}

/** Names of the variables of `schema` declared with `secret()` / `issuedSecret()` / `devOnly()`. */
export function declaredEnvRoles(schema: z.ZodObject): Record<string, EnvRole> {
  const out: Record<string, EnvRole> = {};
  for (const [name, field] of Object.entries(schema.shape)) {
    const role = envRoleOf(field as z.ZodType);
    if (role) out[name] = role;
  }
  return out;
}

type ZodDef = {
  type?: string;
  innerType?: z.ZodType;
  out?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  valueType?: z.ZodType;
  element?: z.ZodType;
};

/**
 * Secrets declared inside a structured variable's parsed value (JSON such as SERVICE_TOKENS:
 * `{"name":{"token": secret(…)}}`), as `[path, role, value]`: the production guard checks them like
 * top-level ones.
 */
function nestedRoles(
  field: z.ZodType,
  value: unknown,
  path: string,
  out: Array<[string, EnvRole, unknown]>,
  depth = 0,
): void {
  if (depth > 16) return;
  const meta = envRoles.get(field);
  if (meta) {
    out.push([path, meta.role, value]);
    return;
  }
  const def = (field as unknown as { _zod: { def: ZodDef } })._zod.def;
  const next = def.type === "pipe" ? def.out : def.innerType;
  if (next) {
    nestedRoles(next, value, path, out, depth + 1);
    return;
  }
  if (!value || typeof value !== "object") return;
  const entries = Object.entries(value as Record<string, unknown>);
  if (def.type === "object" && def.shape) {
    for (const [key, item] of entries) {
      const child = def.shape[key];
      if (child) nestedRoles(child, item, `${path}.${key}`, out, depth + 1);
    }
  } else if (def.type === "record" && def.valueType) {
    for (const [key, item] of entries) nestedRoles(def.valueType, item, `${path}.${key}`, out, depth + 1);
  } else if (def.type === "array" && def.element) {
    for (const [key, item] of entries) nestedRoles(def.element, item, `${path}.${key}`, out, depth + 1);
  }
}

/** What production refuses: dev switches on, example secrets, short secrets. Names, never values. */
function productionProblems(
  schema: z.ZodObject,
  raw: Record<string, string | undefined>,
  parsed: Record<string, unknown> | undefined,
): string[] {
  const problems: string[] = [];
  const declared = declaredEnvRoles(schema);
  const checks: Array<[string, EnvRole, unknown]> = Object.entries(declared).map(([name, role]) => [
    name,
    role,
    parsed && name in parsed ? parsed[name] : raw[name],
  ]);
  if (parsed) {
    for (const [name, field] of Object.entries(schema.shape)) {
      if (!(name in declared)) nestedRoles(field as z.ZodType, parsed[name], name, checks);
    }
  }
  for (const [name, role, value] of checks) {
    if (role === "dev-only") {
      if (value === true || value === "true" || value === "1") {
        problems.push(`${name} is a development switch and must be off in production`);
      }
      continue;
    }
    if (typeof value !== "string") continue;
    if (publishedValues.has(value)) {
      problems.push(
        `${name} is a published example value (.env.example / ATMOS sandbox): set a secret of your own`,
      );
    } else if (role === "secret" && value.length < MIN_PRODUCTION_SECRET_LENGTH) {
      problems.push(`${name} must be at least ${MIN_PRODUCTION_SECRET_LENGTH} characters in production`);
    }
  }
  return problems;
}

export interface ParseEnvOptions {
  /** A development tool (the ATMOS sandbox): refuses to start at all when NODE_ENV=production. */
  devToolOnly?: boolean;
}

/**
 * Parses an app's environment once, at start. On failure it throws an `EnvError` that names
 * every missing or malformed variable (never its value: values may be secrets). With
 * `NODE_ENV=production` it also refuses unsafe configuration (see `secret()`, `devOnly()`).
 */
export function parseEnv<S extends z.ZodObject>(
  app: string,
  schema: S,
  source: Record<string, string | undefined>,
  options: ParseEnvOptions = {},
): z.infer<S> {
  // Empty strings count as unset, so `FOO=` in a .env file falls back to the default.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== ""));
  const production = cleaned.NODE_ENV === "production";
  if (production && options.devToolOnly) {
    throw new EnvError(app, [
      `NODE_ENV is production: ${app} is a development tool and never runs in production`,
    ]);
  }
  const result = schema.safeParse(cleaned);
  const problems = result.success
    ? []
    : result.error.issues.map((issue) => {
        const name = issue.path.join(".") || "(root)";
        const missing = issue.code === "invalid_type" && cleaned[name] === undefined;
        return missing ? `${name} is required but missing` : `${name} is invalid: ${issue.message}`;
      });
  if (production) {
    problems.push(
      ...productionProblems(
        schema,
        cleaned,
        result.success ? (result.data as Record<string, unknown>) : undefined,
      ),
    );
  }
  if (result.success && problems.length === 0) return result.data;
  throw new EnvError(app, problems);
}

/** For an app's entry point: print the EnvError and exit 1 instead of a stack trace. */
export function exitOnEnvError(error: unknown): never {
  if (error instanceof EnvError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
