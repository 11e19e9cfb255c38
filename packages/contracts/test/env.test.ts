import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  declaredEnvRoles,
  devOnly,
  EnvError,
  issuedSecret,
  PUBLISHED_EXAMPLE_NESTED_SECRETS,
  PUBLISHED_EXAMPLE_SECRETS,
  parseEnv,
  secret,
} from "../src/env";

/** `.env.example` at the repository root as `{NAME: value}`. */
function envExample(): Record<string, string> {
  const text = readFileSync(new URL("../../../.env.example", import.meta.url), "utf8");
  return Object.fromEntries(
    text
      .split("\n")
      .filter((line) => /^[A-Z][A-Z0-9_]*=/.test(line))
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
}

const schema = z.object({
  TOKEN: secret(z.string().min(16)),
  OPTIONAL_TOKEN: secret(z.string().min(16)).optional(),
  DEFAULTED_KEY: secret(z.string().min(16)).default(PUBLISHED_EXAMPLE_SECRETS.IDEMPOTENCY_HASH_KEY!),
  PROVIDER_KEY: issuedSecret(z.string().min(1)),
  DEV_SWITCH: devOnly(
    z
      .enum(["true", "false", "1", "0"])
      .default("false")
      .transform((value) => value === "true" || value === "1"),
  ),
  PORT: z.coerce.number().default(1),
});

const GOOD = {
  TOKEN: "a-production-token-of-32-characters-or-more",
  DEFAULTED_KEY: "another-production-secret-of-enough-length",
  PROVIDER_KEY: "Rx8s1sAdIkgVNmkmaQ8VTqPzrzwa", // WSO2-style, 28 characters: issued, length not ours
};

function problems(source: Record<string, string | undefined>, options = {}): string[] {
  try {
    parseEnv("test-app", schema, source, options);
  } catch (error) {
    if (error instanceof EnvError) return error.problems;
    throw error;
  }
  return [];
}

describe("production guard (parseEnv with NODE_ENV=production)", () => {
  it("the published example secrets are exactly the values in .env.example", () => {
    const example = envExample();
    for (const [name, value] of Object.entries(PUBLISHED_EXAMPLE_SECRETS)) {
      expect(example[name], `${name} in .env.example`).toBe(value);
    }
    // The nested ones: the example SERVICE_TOKENS token.
    const serviceTokens = Object.values(
      JSON.parse(example.SERVICE_TOKENS!) as Record<string, { token: string }>,
    ).map((t) => t.token);
    expect(serviceTokens).toEqual([...PUBLISHED_EXAMPLE_NESTED_SECRETS]);
  });

  it("secret(), issuedSecret() and devOnly() are found through optional, default and transform", () => {
    expect(declaredEnvRoles(schema)).toEqual({
      TOKEN: "secret",
      OPTIONAL_TOKEN: "secret",
      DEFAULTED_KEY: "secret",
      PROVIDER_KEY: "issued-secret",
      DEV_SWITCH: "dev-only",
    });
  });

  it("accepts proper secrets in production, and anything outside production", () => {
    expect(problems({ ...GOOD, NODE_ENV: "production" })).toEqual([]);
    expect(
      problems({ TOKEN: "dev-internal-token-change-me", PROVIDER_KEY: "k", DEV_SWITCH: "true" }),
    ).toEqual([]);
  });

  it("refuses a development switch, example values (in any variable, or as a default) and short secrets, by name only", () => {
    const found = problems({
      NODE_ENV: "production",
      TOKEN: "short-but-valid-16",
      OPTIONAL_TOKEN: PUBLISHED_EXAMPLE_SECRETS.CARD_TOKEN_KEY,
      PROVIDER_KEY: PUBLISHED_EXAMPLE_SECRETS.ATMOS_CONSUMER_KEY,
      DEV_SWITCH: "1",
    });
    expect(found).toEqual([
      "TOKEN must be at least 32 characters in production",
      "OPTIONAL_TOKEN is a published example value (.env.example / ATMOS sandbox): set a secret of your own",
      "DEFAULTED_KEY is a published example value (.env.example / ATMOS sandbox): set a secret of your own",
      "PROVIDER_KEY is a published example value (.env.example / ATMOS sandbox): set a secret of your own",
      "DEV_SWITCH is a development switch and must be off in production",
    ]);
    expect(found.join("\n")).not.toContain("short-but-valid-16");
    expect(found.join("\n")).not.toContain("sandbox_consumer_key");
  });

  it("reports the production problems together with malformed variables", () => {
    const found = problems({ NODE_ENV: "production", TOKEN: "x", PROVIDER_KEY: "sandbox_consumer_secret" });
    expect(found).toContain("TOKEN is invalid: Too small: expected string to have >=16 characters");
    expect(found).toContain("TOKEN must be at least 32 characters in production");
    expect(found.some((p) => p.startsWith("PROVIDER_KEY is a published example value"))).toBe(true);
  });

  it("a development tool refuses production altogether", () => {
    expect(problems({ ...GOOD, NODE_ENV: "production" }, { devToolOnly: true })).toEqual([
      "NODE_ENV is production: test-app is a development tool and never runs in production",
    ]);
    expect(problems(GOOD, { devToolOnly: true })).toEqual([]);
  });
});
