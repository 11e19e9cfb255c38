/** The payment-provider port lives in @obuna/provider (adapters depend on it, not on the money core). */
export * from "@obuna/provider";
