/** Money is an integer number of tiyin everywhere; 1 so'm = 100 tiyin. Formatting is for people only. */

export const TIYIN_PER_SOM = 100;

export function somToTiyin(som: number): number {
  return Math.round(som * TIYIN_PER_SOM);
}

/** 2_900_000 tiyin → "29 000 so'm" (whole so'm are shown without decimals). */
export function formatSom(tiyin: number): string {
  const som = tiyin / TIYIN_PER_SOM;
  const whole = Math.trunc(som);
  const grouped = Math.abs(whole)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, " ");
  const sign = tiyin < 0 ? "-" : "";
  const fraction =
    tiyin % TIYIN_PER_SOM === 0 ? "" : `.${String(Math.abs(tiyin % TIYIN_PER_SOM)).padStart(2, "0")}`;
  return `${sign}${grouped}${fraction} so'm`;
}

const PERIOD_WORDS = {
  uz: { day: "kun" },
  ru: { day: "дн." },
  en: { day: "days" },
} as const;

/** "30 kun" — the period of a plan as the seed showed it. */
export function formatPeriod(durationDays: number, lang: keyof typeof PERIOD_WORDS = "uz"): string {
  return `${durationDays} ${PERIOD_WORDS[lang].day}`;
}

export type MoneyLanguage = "uz" | "ru" | "en";

const NBSP = "\u00a0";

/**
 * How each language writes an amount of UZS, after CLDR (ICU 78, `Intl.NumberFormat(locale,
 * {style: "currency", currency: "UZS"})` on Node 20), spelled out here so Node and every browser print
 * the same bytes whatever ICU they ship:
 * - uz "29 000 soʻm": CLDR uz groups with U+00A0 and writes the symbol "soʻm" (U+02BB, the Uzbek
 *   Latin oʻ) after the number, separated by U+00A0.
 * - ru "29 000 сум": CLDR ru groups with U+00A0 (not U+202F, which CLDR uses for French) but has no
 *   Russian symbol for UZS and prints the ISO code; Russian-speaking Uzbekistan (banks, Payme, Click)
 *   writes "сум", so that is the unit, after the number with U+00A0.
 * - en "UZS 29,000": CLDR en puts the ISO code first, U+00A0 before the number, comma grouping.
 * Non-breaking spaces everywhere, so a Telegram message or a narrow Mini App row never wraps an amount.
 * Whole so'm are shown without decimals; a tiyin remainder gets two, with the language's separator.
 */
export function formatMoney(tiyin: number, lang: MoneyLanguage): string {
  const sign = tiyin < 0 ? "-" : "";
  const abs = Math.abs(tiyin);
  const whole = Math.trunc(abs / TIYIN_PER_SOM);
  const rest = abs % TIYIN_PER_SOM;
  const group = lang === "en" ? "," : NBSP;
  const grouped = String(whole).replace(/\B(?=(\d{3})+(?!\d))/g, group);
  const fraction = rest === 0 ? "" : `${lang === "en" ? "." : ","}${String(rest).padStart(2, "0")}`;
  const number = `${sign}${grouped}${fraction}`;
  switch (lang) {
    case "uz":
      return `${number}${NBSP}soʻm`;
    case "ru":
      return `${number}${NBSP}сум`;
    case "en":
      return `UZS${NBSP}${number}`;
  }
}
