/** The public offer the test gateway is configured with (OFFER_URL / OFFER_VERSION). */
export const TEST_OFFER = { url: "https://obuna.example/oferta", version: "2026-11-test" } as const;
