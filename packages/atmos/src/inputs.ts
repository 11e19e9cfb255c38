/**
 * Caller input, zod-validated before anything is sent: a bad value becomes an `invalid_params`
 * AtmosError without calling ATMOS. Expiry is normalised to YYMM whatever the caller typed.
 */
import { normalizeExpiry } from "@obuna/contracts/card";
import { z } from "zod";
import { AtmosError } from "./errors";

const transactionId = z.number().int().positive();
const tiyin = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const cardNumber = z
  .string()
  .transform((v) => v.replace(/[\s-]/g, ""))
  .pipe(z.string().regex(/^\d{16}$/, "card number must be 16 digits"));
const expiry = z.string().transform((value, ctx) => {
  const yymm = normalizeExpiry(value);
  if (!yymm) {
    ctx.addIssue({ code: "custom", message: "expiry must be MM/YY, MMYY or YYMM" });
    return z.NEVER;
  }
  return yymm;
});
const otp = z.string().regex(/^\d{4,8}$/, "OTP must be 4-8 digits");

/** IKPU/MXIK: the 17-digit code of Uzbekistan's goods and services classifier. */
export const IKPU_CODE_PATTERN = /^\d{17}$/;
/** Package (unit) code of the same classifier: digits. */
export const PACKAGE_CODE_PATTERN = /^\d{1,20}$/;

const ofdItem = z
  .object({
    ofdCode: z.string().regex(IKPU_CODE_PATTERN, "ofdCode must be the 17-digit IKPU/MXIK code"),
    name: z.string().trim().min(1).max(255),
    amount: tiyin,
    quantity: z.number().int().positive(),
    packageCode: z.string().regex(PACKAGE_CODE_PATTERN, "packageCode must be digits").optional(),
    vatPercent: z.number().int().min(0).max(100).optional(),
  })
  .strict();

export const inputSchemas = {
  create: z.object({
    amount: tiyin,
    account: z.string().trim().min(1).max(64),
    details: z.string().max(255).optional(),
    lang: z.enum(["uz", "ru", "en"]).optional(),
  }),
  preApplyCard: z.object({ transactionId, cardNumber, expiry }),
  preApplyToken: z.object({ transactionId, cardToken: z.string().min(1) }),
  apply: z.object({ transactionId, otp, ofdItems: z.array(ofdItem).min(1).max(100).optional() }),
  transactionId,
  reverse: z.object({ transactionId, reason: z.string().min(1).max(255) }),
  bindCardInit: z.object({ cardNumber, expiry }),
  bindCardConfirm: z.object({ transactionId, otp }),
  listCards: z.object({
    page: z.number().int().positive().optional(),
    pageSize: z.number().int().positive().max(500).optional(),
  }),
  removeCard: z.object({ cardId: z.number().int().positive(), cardToken: z.string().min(1) }),
};

/** Parses caller input; never echoes the value (it may be a card number) in the message. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, endpoint: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "value"}: ${issue.message}`);
  throw new AtmosError({
    kind: "invalid_params",
    message: `invalid input for ${endpoint}: ${problems.join("; ")}`,
    endpoint,
  });
}
