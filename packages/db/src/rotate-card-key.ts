import { and, asc, eq, gt, isNotNull, sql } from "drizzle-orm";
import type { Database } from "./client";
import { type CardTokenKey, decryptCardToken, encryptCardToken } from "./crypto";
import { boundCards, paymentSessions } from "./schema/index";

export interface CardKeyRotation {
  /** Tokens re-encrypted from the old key to the new one. */
  rotated: number;
  /** Tokens that already opened with the new key (an earlier, interrupted run). */
  alreadyNew: number;
  /** Ids of tokens neither key opens: left as they are, for an operator to look at. */
  unreadable: number[];
  /** Ids of payment sessions whose pending-binding token neither key opens. */
  unreadableSessions: string[];
}

function opensWith(stored: string, key: CardTokenKey): string | null {
  try {
    return decryptCardToken(stored, key);
  } catch {
    return null;
  }
}

/**
 * Re-encrypts every stored card token from `oldKey` to `newKey` (CARD_TOKEN_KEY rotation), one
 * transaction per batch with the rows locked, so a run can be interrupted and started again: rows
 * already under the new key are recognised (AES-GCM refuses a wrong key) and left alone. Erased
 * tokens (null) are skipped. Stop the renewals worker first, and switch the apps to the new key
 * after the run (docs/operations.md).
 */
export async function rotateCardTokenKey(
  db: Database,
  oldKey: CardTokenKey,
  newKey: CardTokenKey,
  options: { batchSize?: number } = {},
): Promise<CardKeyRotation> {
  const result: CardKeyRotation = { rotated: 0, alreadyNew: 0, unreadable: [], unreadableSessions: [] };
  const batchSize = options.batchSize ?? 500;
  let afterId = 0;
  for (;;) {
    const batch = await db.transaction(async (tx) => {
      const rows = await tx
        .select({ id: boundCards.id, cardToken: boundCards.cardToken })
        .from(boundCards)
        .where(and(isNotNull(boundCards.cardToken), gt(boundCards.id, afterId)))
        .orderBy(asc(boundCards.id))
        .limit(batchSize)
        .for("update");
      for (const row of rows) {
        const stored = row.cardToken!;
        if (opensWith(stored, newKey) !== null) {
          result.alreadyNew++;
          continue;
        }
        const token = opensWith(stored, oldKey);
        if (token === null) {
          result.unreadable.push(row.id);
          continue;
        }
        await tx
          .update(boundCards)
          .set({ cardToken: encryptCardToken(token, newKey) })
          .where(eq(boundCards.id, row.id));
        result.rotated++;
      }
      return rows;
    });
    if (batch.length === 0) break;
    afterId = batch.at(-1)!.id;
  }
  // A payment session's pending card binding holds a token too, until its payment succeeds or the
  // renewals maintenance erases it.
  let afterSession = "00000000-0000-0000-0000-000000000000";
  for (;;) {
    const batch = await db.transaction(async (tx) => {
      const rows = await tx
        .select({ id: paymentSessions.id, bindCardToken: paymentSessions.bindCardToken })
        .from(paymentSessions)
        .where(and(isNotNull(paymentSessions.bindCardToken), gt(paymentSessions.id, afterSession)))
        .orderBy(asc(paymentSessions.id))
        .limit(batchSize)
        .for("update");
      for (const row of rows) {
        const stored = row.bindCardToken!;
        if (opensWith(stored, newKey) !== null) {
          result.alreadyNew++;
          continue;
        }
        const token = opensWith(stored, oldKey);
        if (token === null) {
          result.unreadableSessions.push(row.id);
          continue;
        }
        await tx
          .update(paymentSessions)
          // Keeps updated_at: the erasure job's day is counted from it.
          .set({
            bindCardToken: encryptCardToken(token, newKey),
            updatedAt: sql`${paymentSessions.updatedAt}`,
          })
          .where(eq(paymentSessions.id, row.id));
        result.rotated++;
      }
      return rows;
    });
    if (batch.length === 0) return result;
    afterSession = batch.at(-1)!.id;
  }
}
