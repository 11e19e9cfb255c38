/**
 * Cards the sandbox knows. The six current ATMOS sandbox cards (atmos-api.md §8) succeed with OTP
 * 111111; the failure cards reuse PANs from the older ATMOS list with future expiries (our choice,
 * the real sandbox codes are unknown). Every PAN passes Luhn.
 */

export type SandboxCardOutcome =
  | "success"
  | "card_expired"
  | "insufficient_funds"
  | "card_blocked"
  | "sms_not_connected";

export interface SandboxCard {
  pan: string;
  /** As printed on the card: MM/YY. */
  expiry: string;
  scheme: "humo" | "uzcard";
  outcome: SandboxCardOutcome;
  holder: string;
  /** 998XXXXXXXXX */
  phone: string;
}

/** OTP of every sandbox card (and the fixed OTP of token payments). */
export const SANDBOX_OTP = "111111";

export const SANDBOX_CARDS = {
  humo1: {
    pan: "9860090101014364",
    expiry: "02/28",
    scheme: "humo",
    outcome: "success",
    holder: "TEST HUMO",
    phone: "998901000001",
  },
  humo2: {
    pan: "9860090101893213",
    expiry: "02/28",
    scheme: "humo",
    outcome: "success",
    holder: "TEST HUMO",
    phone: "998901000002",
  },
  humo3: {
    pan: "9860090101842392",
    expiry: "02/28",
    scheme: "humo",
    outcome: "success",
    holder: "TEST HUMO",
    phone: "998901000003",
  },
  humo4: {
    pan: "9860090101469915",
    expiry: "02/28",
    scheme: "humo",
    outcome: "success",
    holder: "TEST HUMO",
    phone: "998901000004",
  },
  uzcard1: {
    pan: "5614688715378807",
    expiry: "03/29",
    scheme: "uzcard",
    outcome: "success",
    holder: "TEST UZCARD",
    phone: "998901000005",
  },
  uzcard2: {
    pan: "8600490744313347",
    expiry: "10/29",
    scheme: "uzcard",
    outcome: "success",
    holder: "TEST UZCARD",
    phone: "998901000006",
  },
  expired: {
    pan: "8600492986215602",
    expiry: "03/20",
    scheme: "uzcard",
    outcome: "card_expired",
    holder: "TEST EXPIRED",
    phone: "998901000007",
  },
  insufficientFunds: {
    pan: "8600312998546358",
    expiry: "10/30",
    scheme: "uzcard",
    outcome: "insufficient_funds",
    holder: "TEST POOR",
    phone: "998901000008",
  },
  blocked: {
    pan: "8600310000008888",
    expiry: "12/30",
    scheme: "uzcard",
    outcome: "card_blocked",
    holder: "TEST BLOCKED",
    phone: "998901000009",
  },
  smsNotConnected: {
    pan: "8600493214116133",
    expiry: "10/30",
    scheme: "uzcard",
    outcome: "sms_not_connected",
    holder: "TEST NOSMS",
    phone: "998901000010",
  },
} as const satisfies Record<string, SandboxCard>;

export type SandboxCardName = keyof typeof SANDBOX_CARDS;

export function findSandboxCard(pan: string): SandboxCard | undefined {
  return Object.values(SANDBOX_CARDS).find((card) => card.pan === pan);
}

/** MM/YY → YYMM as ATMOS wants it. */
export function sandboxExpiryYymm(card: SandboxCard): string {
  const [mm, yy] = card.expiry.split("/") as [string, string];
  return `${yy}${mm}`;
}
