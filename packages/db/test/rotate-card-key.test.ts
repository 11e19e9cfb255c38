// CARD_TOKEN_KEY rotation on its own database: every token moves to the new key, a second run finds
// nothing to do, erased tokens stay null, and a token neither key opens is reported, not destroyed.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type DbHandle } from "../src/client";
import { decryptCardToken, encryptCardToken, parseCardTokenKey } from "../src/crypto";
import { saveBoundCard, upsertTelegramUser } from "../src/queries/index";
import { rotateCardTokenKey } from "../src/rotate-card-key";
import { boundCards, paymentSessions, plans } from "../src/schema/index";
import { dropDatabase, prepareTestDatabase } from "../src/testing/index";

const OLD_HEX = "11".repeat(32);
const NEW_HEX = "22".repeat(32);
const oldKey = parseCardTokenKey(OLD_HEX);
const newKey = parseCardTokenKey(NEW_HEX);
const strangerKey = parseCardTokenKey("33".repeat(32));
let url: string;
let handle: DbHandle;
const ids: Record<string, number> = {};
let pendingSessionId: string;
const sessionUpdatedAt = new Date("2031-01-02T03:04:05.000Z");

beforeAll(async () => {
  url = await prepareTestDatabase("db_rotate", { seed: false });
  handle = createDb(url, { max: 2 });
  const user = await upsertTelegramUser(handle.db, { telegramId: 9_100_000_001 });
  const card = (cardId: number, token: string) =>
    saveBoundCard(
      handle.db,
      {
        userId: user.id,
        cardToken: token,
        cardRef: String(cardId),
        panMasked: "986009******1840",
        expiry: "2912",
        cardType: "humo",
      },
      oldKey,
    );
  for (let i = 1; i <= 7; i++) ids[`token-${i}`] = (await card(i, `token-${i}`)).id;
  ids.erased = (await card(100, "erased-token")).id;
  await handle.db
    .update(boundCards)
    .set({ status: "erased", isActive: false, removedAt: new Date(), cardToken: null })
    .where(eq(boundCards.id, ids.erased));
  ids.stranger = (await card(200, "stranger-token")).id;
  await handle.db
    .update(boundCards)
    .set({ cardToken: encryptCardToken("stranger-token", strangerKey) })
    .where(eq(boundCards.id, ids.stranger));
  // A payment session's pending card binding holds a token too.
  const [plan] = await handle.db
    .insert(plans)
    .values({
      slug: "monthly",
      nameUz: "Oylik",
      nameRu: "Месяц",
      nameEn: "Monthly",
      price: 2_900_000,
      durationDays: 30,
    })
    .returning();
  const [session] = await handle.db
    .insert(paymentSessions)
    .values({
      userId: user.id,
      planId: plan!.id,
      amount: plan!.price,
      status: "failed",
      bindCardRef: "300",
      bindCardToken: encryptCardToken("session-token", oldKey),
      expiresAt: sessionUpdatedAt,
      updatedAt: sessionUpdatedAt,
    })
    .returning();
  pendingSessionId = session!.id;
});
afterAll(async () => {
  await handle?.close();
  await dropDatabase(url);
});

async function stored(id: number) {
  const [row] = await handle.db.select().from(boundCards).where(eq(boundCards.id, id));
  return row!.cardToken;
}

describe("CARD_TOKEN_KEY rotation", () => {
  it("re-encrypts every token under the new key in small batches, and a second run finds nothing to do", async () => {
    const first = await rotateCardTokenKey(handle.db, oldKey, newKey, { batchSize: 3 });
    expect(first).toEqual({ rotated: 8, alreadyNew: 0, unreadable: [ids.stranger], unreadableSessions: [] });
    for (let i = 1; i <= 7; i++) {
      const token = (await stored(ids[`token-${i}`]!))!;
      expect(decryptCardToken(token, newKey)).toBe(`token-${i}`);
      expect(() => decryptCardToken(token, oldKey)).toThrow();
    }
    expect(await stored(ids.erased!)).toBeNull();
    expect(decryptCardToken((await stored(ids.stranger!))!, strangerKey)).toBe("stranger-token");
    const [session] = await handle.db
      .select()
      .from(paymentSessions)
      .where(eq(paymentSessions.id, pendingSessionId));
    expect(decryptCardToken(session!.bindCardToken!, newKey)).toBe("session-token");
    // The erasure job counts its day from updated_at: rotation leaves it as it was.
    expect(session!.updatedAt).toEqual(sessionUpdatedAt);

    const again = await rotateCardTokenKey(handle.db, oldKey, newKey, { batchSize: 3 });
    expect(again).toEqual({ rotated: 0, alreadyNew: 8, unreadable: [ids.stranger], unreadableSessions: [] });
  });

  it("the `pnpm db:rotate-card-key` script reads both keys from the environment and reports", async () => {
    const packageDir = fileURLToPath(new URL("..", import.meta.url));
    const run = promisify(execFile);
    const env = { PATH: process.env.PATH ?? "", DATABASE_URL: url, CARD_TOKEN_KEY_OLD: NEW_HEX };
    // Back to a third key: a real rotation, with the one foreign token reported (exit 1).
    const THIRD_HEX = "44".repeat(32);
    const failed = await run("pnpm", ["exec", "tsx", "scripts/rotate-card-key.ts"], {
      cwd: packageDir,
      env: { ...env, CARD_TOKEN_KEY_NEW: THIRD_HEX },
    }).catch((error: { code: number; stdout: string; stderr: string }) => error);
    expect("code" in failed && failed.code).toBe(1);
    expect(failed.stdout).toContain("8 rotated, 0 already under the new key, 1 unreadable");
    expect(failed.stderr).toContain(String(ids.stranger));
    // The keys never appear in what it prints.
    expect(failed.stdout + failed.stderr).not.toContain(THIRD_HEX);
    expect(failed.stdout + failed.stderr).not.toContain(NEW_HEX);
    const token = (await stored(ids["token-1"]!))!;
    expect(decryptCardToken(token, parseCardTokenKey(THIRD_HEX))).toBe("token-1");

    // A missing key is named, not guessed.
    const missing = await run("pnpm", ["exec", "tsx", "scripts/rotate-card-key.ts"], {
      cwd: packageDir,
      env,
    }).catch((error: { code: number; stderr: string }) => error);
    expect("code" in missing && missing.code).toBe(1);
    expect(missing.stderr).toContain("CARD_TOKEN_KEY_NEW");
  });
});
