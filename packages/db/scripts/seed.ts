import { exitOnEnvError } from "@obuna/contracts/env";
import { createDb } from "../src/client";
import { loadDbScriptEnv } from "../src/env";
import { seedPlans } from "../src/seed";

try {
  const env = loadDbScriptEnv();
  const { db, close } = createDb(env.DATABASE_URL, { max: 1, applicationName: "obuna-seed" });
  try {
    const inserted = await seedPlans(db);
    console.log(`db:seed: ${inserted} plan(s) inserted, ${3 - inserted} already present`);
  } finally {
    await close();
  }
} catch (error) {
  exitOnEnvError(error);
}
