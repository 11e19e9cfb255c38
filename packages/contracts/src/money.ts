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
