import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    globalSetup: ["./test/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // One Postgres database and one Redis index for the package: files run one after another.
    fileParallelism: false,
  },
});
