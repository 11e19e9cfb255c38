import { checkPan, isExpired, parseExpiry } from "@obuna/contracts/card";
import type { MessageKey } from "./i18n";

/** Checks before anything is sent: 16 digits, Luhn, UzCard/Humo range, MM/YY not in the past. */
export function validateCard(pan: string, expiry: string): { pan?: MessageKey; expiry?: MessageKey } {
  const problems: { pan?: MessageKey; expiry?: MessageKey } = {};
  const checked = checkPan(pan);
  if (!checked.ok) problems.pan = `card.error.${checked.problem}`;
  const parsed = /^\d{2}\/\d{2}$/.test(expiry) ? parseExpiry(expiry) : null;
  if (!parsed) problems.expiry = "card.error.expiry_format";
  else if (isExpired(parsed)) problems.expiry = "card.error.expiry_past";
  return problems;
}
