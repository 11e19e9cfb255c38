// `pnpm db:rotate-card-key`: re-encrypts every stored ATMOS card token from CARD_TOKEN_KEY_OLD to
// CARD_TOKEN_KEY_NEW (both from the environment, never arguments: they would land in shell history).
// Safe to run again after an interruption. Exits 1 if a token opens with neither key.
import { exitOnEnvError } from "@obuna/contracts/env";
import { createDb } from "../src/client";
import { parseCardTokenKey } from "../src/crypto";
import { loadCardKeyRotationEnv } from "../src/env";
import { rotateCardTokenKey } from "../src/rotate-card-key";

try {
  const env = loadCardKeyRotationEnv();
  if (env.CARD_TOKEN_KEY_OLD === env.CARD_TOKEN_KEY_NEW) {
    console.error("db:rotate-card-key: CARD_TOKEN_KEY_OLD and CARD_TOKEN_KEY_NEW are the same key");
    process.exit(1);
  }
  const handle = createDb(env.DATABASE_URL, { max: 2, applicationName: "obuna-rotate-card-key" });
  try {
    const result = await rotateCardTokenKey(
      handle.db,
      parseCardTokenKey(env.CARD_TOKEN_KEY_OLD),
      parseCardTokenKey(env.CARD_TOKEN_KEY_NEW),
    );
    console.log(
      `db:rotate-card-key: ${result.rotated} rotated, ${result.alreadyNew} already under the new key, ${result.unreadable.length + result.unreadableSessions.length} unreadable`,
    );
    if (result.unreadable.length > 0) {
      console.error(`db:rotate-card-key: bound_cards ids neither key opens: ${result.unreadable.join(", ")}`);
      process.exitCode = 1;
    }
    if (result.unreadableSessions.length > 0) {
      console.error(
        `db:rotate-card-key: payment_sessions ids neither key opens: ${result.unreadableSessions.join(", ")}`,
      );
      process.exitCode = 1;
    }
  } finally {
    await handle.close();
  }
} catch (error) {
  exitOnEnvError(error);
}
