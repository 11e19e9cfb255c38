import { defineConfig } from "drizzle-kit";

// Only `drizzle-kit generate` is used: migrations are committed SQL and applied by `pnpm db:migrate`.
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/schema/index.ts",
  out: "./migrations",
  casing: "snake_case",
  strict: true,
});
