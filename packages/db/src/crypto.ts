import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

/**
 * Card tokens are encrypted at rest with AES-256-GCM. The key is CARD_TOKEN_KEY: 32 bytes as
 * 64 hex characters or base64. The stored form is `v1.<iv>.<tag>.<ciphertext>` (base64url parts).
 */
export type CardTokenKey = Buffer;

export function parseCardTokenKey(value: string): CardTokenKey {
  const key = /^[0-9a-fA-F]{64}$/.test(value) ? Buffer.from(value, "hex") : Buffer.from(value, "base64");
  if (key.length !== 32) throw new Error("CARD_TOKEN_KEY must be 32 bytes (64 hex characters or base64)");
  return key;
}

export function encryptCardToken(token: string, key: CardTokenKey): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const ciphertext = Buffer.concat([cipher.update(token, "utf8"), cipher.final()]);
  const tag = cipher.getAuthTag();
  return ["v1", iv.toString("base64url"), tag.toString("base64url"), ciphertext.toString("base64url")].join(
    ".",
  );
}

export function decryptCardToken(stored: string, key: CardTokenKey): string {
  const [version, iv, tag, ciphertext] = stored.split(".");
  if (version !== "v1" || !iv || !tag || ciphertext === undefined) throw new Error("unreadable card token");
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
  decipher.setAuthTag(Buffer.from(tag, "base64url"));
  return Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64url")), decipher.final()]).toString(
    "utf8",
  );
}
