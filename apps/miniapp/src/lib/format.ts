/** Dates for people, in Tashkent time (UTC+5, no daylight saving): 28.11.2026. */
const TASHKENT_OFFSET_MS = 5 * 60 * 60 * 1000;

export function formatDate(iso: string): string {
  const date = new Date(new Date(iso).getTime() + TASHKENT_OFFSET_MS);
  const day = String(date.getUTCDate()).padStart(2, "0");
  const month = String(date.getUTCMonth() + 1).padStart(2, "0");
  return `${day}.${month}.${date.getUTCFullYear()}`;
}

/** ATMOS expiry YYMM → MM/YY as printed on the card. */
export function formatCardExpiry(yymm: string): string {
  return /^\d{4}$/.test(yymm) ? `${yymm.slice(2, 4)}/${yymm.slice(0, 2)}` : yymm;
}

/** `860014******1234` → `8600 14** **** 1234` for reading. */
export function formatMaskedPan(masked: string): string {
  return masked.length === 16 ? masked.replace(/(.{4})(?=.)/g, "$1 ") : masked;
}
