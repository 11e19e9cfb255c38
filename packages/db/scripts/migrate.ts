import { exitOnEnvError } from "@obuna/contracts/env";
import { loadDbScriptEnv } from "../src/env";
import { ensureDatabase, migrateDatabase } from "../src/migrate";

try {
  const env = loadDbScriptEnv();
  const created = await ensureDatabase(env.DATABASE_URL);
  await migrateDatabase(env.DATABASE_URL);
  const name = new URL(env.DATABASE_URL).pathname.slice(1);
  console.log(`db:migrate: ${created ? "created and " : ""}migrated database "${name}"`);
} catch (error) {
  exitOnEnvError(error);
}
