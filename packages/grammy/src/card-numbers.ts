import { passesLuhn } from "@obuna/contracts/card";

/**
 * Does `text` hold something that looks like a card number (PAN)? 16 Luhn-valid digits, written
 * together or in groups separated by one space, dash, dot or no-break space ("8600 1234 5678 9012",
 * "8600-1234-…"). Groups are joined only at their boundaries, so a phone number next to an amount does
 * not turn into a "card". Used to keep card numbers out of the support chat.
 */
export function containsCardNumber(text: string): boolean {
  for (const run of text.matchAll(/\d+(?:[ \-.\u00a0]\d+)*/g)) {
    const groups = run[0].split(/[ \-.\u00a0]/);
    for (let start = 0; start < groups.length; start++) {
      let digits = "";
      for (let end = start; end < groups.length && digits.length < 16; end++) {
        digits += groups[end];
        if (digits.length === 16 && passesLuhn(digits)) return true;
      }
    }
  }
  return false;
}
