/**
 * ATMOS wire format (snake_case JSON), validated with zod at the boundary.
 * Schemas are tolerant: numbers may arrive as strings, unknown fields are ignored, optional fields
 * may be missing or null. Anything we depend on is checked.
 */
import { z } from "zod";

/** An integer that ATMOS may send as a number or a numeric string. */
const intLike = z.union([
  z.number().int(),
  z
    .string()
    .regex(/^-?\d+$/)
    .transform(Number),
]);
const optionalInt = intLike.nullish().transform((v) => v ?? null);
const optionalString = z
  .union([z.string(), z.number()])
  .nullish()
  .transform((v) => (v === null || v === undefined ? null : String(v)));

export const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  scope: z.string().optional(),
  expires_in: intLike,
});
export type TokenResponse = z.infer<typeof tokenResponseSchema>;

export const resultSchema = z.object({
  code: z.union([z.string(), z.number()]).transform(String),
  description: z.string().nullish(),
});

export const envelopeSchema = z.looseObject({ result: resultSchema });
export type Envelope = z.infer<typeof envelopeSchema>;

export function isOkCode(code: string): boolean {
  return code === "OK" || code === "0";
}

export const storeTransactionSchema = z.object({
  trans_id: intLike.nullish(),
  success_trans_id: optionalInt,
  account: optionalString,
  amount: optionalInt,
  confirmed: z
    .union([z.boolean(), z.literal("true"), z.literal("false")])
    .nullish()
    .transform((v) => v === true || v === "true"),
  prepay_time: optionalInt,
  confirm_time: optionalInt,
  card_id: optionalString,
  status_code: optionalString,
  status_message: optionalString,
  terminal_id: optionalString,
});
export type WireStoreTransaction = z.infer<typeof storeTransactionSchema>;

export const createResponseSchema = z.object({
  transaction_id: intLike,
  store_transaction: storeTransactionSchema.nullish(),
});

export const preApplyResponseSchema = z.object({
  transaction_id: intLike.nullish(),
  phone: optionalString,
});

export const applyResponseSchema = z.object({
  transaction_id: intLike.nullish(),
  store_transaction: storeTransactionSchema,
  ofd_url: optionalString,
  ofd_url_commission: optionalString,
});

export const getResponseSchema = z.object({
  store_transaction: storeTransactionSchema,
  ofd_url: optionalString,
});

export const reverseResponseSchema = z.object({ transaction_id: intLike.nullish() });

export const boundCardSchema = z.object({
  card_id: intLike,
  pan: z.string().min(1),
  expiry: z.union([z.string(), z.number()]).transform((v) => String(v).padStart(4, "0")),
  card_holder: optionalString,
  phone: optionalString,
  card_token: z.string().min(1),
  balance: optionalInt,
});

export const bindInitResponseSchema = z.object({
  transaction_id: intLike,
  phone: optionalString,
});

export const bindConfirmResponseSchema = z.object({ data: boundCardSchema });

/** ERR-133 answer: the existing card in `data`. */
export const alreadyBoundSchema = z.object({ data: boundCardSchema });

const cardSummarySchema = z.object({
  card_id: intLike,
  card_token: z.string().min(1),
  pan: z.string().min(1),
  expiry: z.union([z.string(), z.number()]).transform((v) => String(v).padStart(4, "0")),
});

/** The array key is `card_list` (S11) or `cardDataSmallList` (S20): accept both. */
export const listCardsResponseSchema = z
  .object({
    card_list: z.array(cardSummarySchema).nullish(),
    cardDataSmallList: z.array(cardSummarySchema).nullish(),
  })
  .transform((v) => v.card_list ?? v.cardDataSmallList ?? []);
