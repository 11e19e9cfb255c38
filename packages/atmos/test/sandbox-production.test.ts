/** The ATMOS sandbox is a development tool: it refuses NODE_ENV=production, its credentials are published. */
import { spawnSync } from "node:child_process";
import { EnvError, PUBLISHED_EXAMPLE_SECRETS } from "@obuna/contracts/env";
import { describe, expect, it } from "vitest";
import { DEFAULT_SANDBOX_CONFIG } from "../src/sandbox/config";
import { sandboxEnv } from "../src/sandbox/env";

describe("ATMOS sandbox in production", () => {
  it("sandboxEnv refuses NODE_ENV=production, naming NODE_ENV, whatever the credentials", () => {
    let error: unknown;
    try {
      sandboxEnv({ NODE_ENV: "production", ATMOS_CONSUMER_KEY: "Rx8s1sAdIkgVNmkmaQ8VTqPzrzwa" });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(EnvError);
    expect((error as EnvError).problems).toEqual([
      "NODE_ENV is production: atmos-sandbox is a development tool and never runs in production",
    ]);
    expect(sandboxEnv({ NODE_ENV: "development" }).ATMOS_SANDBOX_PORT).toBe(8040);
  });

  it("the sandbox process exits 1 in production and never listens", () => {
    const result = spawnSync(process.execPath, ["--import", "tsx", "src/sandbox/main.ts"], {
      cwd: new URL("..", import.meta.url).pathname,
      env: { PATH: process.env.PATH ?? "", NODE_ENV: "production", ATMOS_SANDBOX_PORT: "0" },
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("NODE_ENV is production");
    expect(result.stdout).not.toContain("listening");
  });

  it("its default credentials are the published example secrets production refuses", () => {
    const defaults = sandboxEnv({});
    expect(defaults.ATMOS_CONSUMER_KEY).toBe(PUBLISHED_EXAMPLE_SECRETS.ATMOS_CONSUMER_KEY);
    expect(defaults.ATMOS_CONSUMER_SECRET).toBe(PUBLISHED_EXAMPLE_SECRETS.ATMOS_CONSUMER_SECRET);
    expect(defaults.ATMOS_CALLBACK_API_KEY).toBe(PUBLISHED_EXAMPLE_SECRETS.ATMOS_CALLBACK_API_KEY);
    expect(DEFAULT_SANDBOX_CONFIG.consumerKey).toBe(PUBLISHED_EXAMPLE_SECRETS.ATMOS_CONSUMER_KEY);
    expect(DEFAULT_SANDBOX_CONFIG.consumerSecret).toBe(PUBLISHED_EXAMPLE_SECRETS.ATMOS_CONSUMER_SECRET);
    expect(DEFAULT_SANDBOX_CONFIG.callbackApiKey).toBe(PUBLISHED_EXAMPLE_SECRETS.ATMOS_CALLBACK_API_KEY);
  });
});
