import type { z } from "zod";

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
 * Parses an app's environment once, at start. On failure it throws an `EnvError` that names
 * every missing or malformed variable (never its value: values may be secrets).
 */
export function parseEnv<S extends z.ZodObject>(
  app: string,
  schema: S,
  source: Record<string, string | undefined>,
): z.infer<S> {
  // Empty strings count as unset, so `FOO=` in a .env file falls back to the default.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== ""));
  const result = schema.safeParse(cleaned);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join(".") || "(root)";
    const missing = issue.code === "invalid_type" && cleaned[name] === undefined;
    return missing ? `${name} is required but missing` : `${name} is invalid: ${issue.message}`;
  });
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
