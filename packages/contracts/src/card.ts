/**
 * Card number (PAN) rules shared by the gateway and the Mini App.
 * A PAN lives only in memory for one ATMOS request: store and log only `maskPan(pan)`.
 * This module has no dependencies so the Mini App can import it cheaply.
 */

export type CardType = "uzcard" | "humo" | "visa" | "mastercard";

export function digitsOnly(value: string): string {
  return value.replace(/\D/g, "");
}

export function passesLuhn(pan: string): boolean {
  if (!/^\d+$/.test(pan)) return false;
  let sum = 0;
  let double = false;
  for (let i = pan.length - 1; i >= 0; i--) {
    let digit = pan.charCodeAt(i) - 48;
    if (double) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    double = !double;
  }
  return sum % 10 === 0;
}

/**
 * UzCard: 8600 xx and the newer 5614 xx range; Humo: 9860 xx.
 * Only these are payable through the ATMOS merchant card-on-API flow we use.
 */
export function detectCardType(pan: string): CardType | null {
  const digits = digitsOnly(pan);
  if (digits.startsWith("8600") || digits.startsWith("5614")) return "uzcard";
  if (digits.startsWith("9860")) return "humo";
  if (digits.startsWith("4")) return "visa";
  if (/^5[1-5]/.test(digits) || /^2[2-7]/.test(digits)) return "mastercard";
  return null;
}

export function isLocalCardType(type: CardType | null): type is "uzcard" | "humo" {
  return type === "uzcard" || type === "humo";
}

export type PanProblem = "length" | "luhn" | "unsupported_card";

/** Validates a PAN for payment: 16 digits, Luhn, UzCard or Humo range. */
export function checkPan(
  value: string,
): { ok: true; pan: string; type: "uzcard" | "humo" } | { ok: false; problem: PanProblem } {
  const pan = value.replace(/[\s-]/g, "");
  if (!/^\d{16}$/.test(pan)) return { ok: false, problem: "length" };
  if (!passesLuhn(pan)) return { ok: false, problem: "luhn" };
  const type = detectCardType(pan);
  if (!isLocalCardType(type)) return { ok: false, problem: "unsupported_card" };
  return { ok: true, pan, type };
}

/** ATMOS style mask: first 6, six stars, last 4 — `986009******1840`. */
export function maskPan(pan: string): string {
  const digits = digitsOnly(pan);
  if (digits.length < 10) return "*".repeat(digits.length);
  return `${digits.slice(0, 6)}${"*".repeat(digits.length - 10)}${digits.slice(-4)}`;
}

/** Groups a (partial) card number 4-4-4-4 for display while typing. */
export function groupPan(value: string): string {
  return digitsOnly(value)
    .slice(0, 16)
    .replace(/(\d{4})(?=\d)/g, "$1 ");
}

export interface CardExpiry {
  /** 1..12 */
  month: number;
  /** four-digit year */
  year: number;
}

/**
 * Reads an expiry typed as MM/YY, MM-YY, MMYY or YYMM.
 * With a separator the order is MM/YY. Without one, 4 digits are read as YYMM (the ATMOS format)
 * unless only the MMYY reading gives a valid month; for cards that are not expired the two
 * readings never both give a valid month, so this is unambiguous in practice.
 */
export function parseExpiry(value: string): CardExpiry | null {
  const trimmed = value.trim();
  const separated = /^(\d{1,2})\s*[/.-]\s*(\d{2}|\d{4})$/.exec(trimmed);
  if (separated) {
    const month = Number(separated[1]);
    const yearPart = separated[2]!;
    const year = yearPart.length === 4 ? Number(yearPart) : 2000 + Number(yearPart);
    return month >= 1 && month <= 12 ? { month, year } : null;
  }
  if (!/^\d{4}$/.test(trimmed)) return null;
  const a = Number(trimmed.slice(0, 2));
  const b = Number(trimmed.slice(2, 4));
  const yymmValid = b >= 1 && b <= 12;
  const mmyyValid = a >= 1 && a <= 12;
  if (yymmValid) return { month: b, year: 2000 + a };
  if (mmyyValid) return { month: a, year: 2000 + b };
  return null;
}

/** YYMM, as ATMOS wants it. */
export function toAtmosExpiry(expiry: CardExpiry): string {
  return `${String(expiry.year % 100).padStart(2, "0")}${String(expiry.month).padStart(2, "0")}`;
}

/** A card is valid through the last day of its expiry month. */
export function isExpired(expiry: CardExpiry, now: Date = new Date()): boolean {
  const year = now.getUTCFullYear();
  const month = now.getUTCMonth() + 1;
  return expiry.year < year || (expiry.year === year && expiry.month < month);
}

/** Normalises any accepted expiry spelling to YYMM, or null when unreadable. */
export function normalizeExpiry(value: string): string | null {
  const parsed = parseExpiry(value);
  return parsed ? toAtmosExpiry(parsed) : null;
}

/** First day after the card stops working (UTC). */
export function expiryEndsAt(yymm: string): Date {
  const year = 2000 + Number(yymm.slice(0, 2));
  const month = Number(yymm.slice(2, 4));
  return new Date(Date.UTC(year, month, 1));
}

/** Finds every run of exactly 16 digits that passes Luhn: used by the no-card-number scans. */
export function findCardNumbers(text: string): string[] {
  const hits: string[] = [];
  for (const match of text.matchAll(/(?<!\d)\d{16}(?!\d)/g)) {
    if (passesLuhn(match[0])) hits.push(match[0]);
  }
  return hits;
}

/**
 * A run of 13-19 digits, plain or in groups split by spaces or dashes, standing alone (not inside a
 * longer token): a card number as typed. The boundaries keep ids out of it: a UUID's digit-only
 * segments joined by dashes would otherwise match.
 */
const CARD_LIKE_DIGITS = /(?<![0-9A-Za-z-])\d(?:[ -]?\d){12,18}(?![0-9A-Za-z-])/g;

/** `text` with every card-number-like run of digits masked (`860031******4318`). */
export function maskCardLikeDigits(text: string): string {
  CARD_LIKE_DIGITS.lastIndex = 0;
  if (!CARD_LIKE_DIGITS.test(text)) return text;
  return text.replace(CARD_LIKE_DIGITS, (digits) => maskPan(digits));
}

const DIGIT_RUN = /(?<!\d)\d{14,19}(?!\d)/g;

/**
 * `text` with every card number masked wherever it stands (`bot-986009******4364`): each unbroken run of
 * 14-19 digits that passes the Luhn check. For what goes on a log line as given (URL paths, request
 * ids). A UUID never has such a run, and a millisecond timestamp (13 digits) is left alone.
 */
export function maskCardNumbersIn(text: string): string {
  DIGIT_RUN.lastIndex = 0;
  if (!DIGIT_RUN.test(text)) return text;
  return text.replace(DIGIT_RUN, (digits) => (passesLuhn(digits) ? maskPan(digits) : digits));
}
