/** Sandbox settings: the options of `startSandbox`, the `configure` patch and `POST /_sandbox/config`. */
import { z } from "zod";

const rate = z.number().min(0).max(1);
const count = z.number().int().min(0);
export const SANDBOX_CARD_OUTCOMES = [
  "success",
  "card_expired",
  "insufficient_funds",
  "card_blocked",
  "sms_not_connected",
] as const;

export const sandboxConfigSchema = z.object({
  /** The merchant store the sandbox accepts (`store_id` in merchant calls and callbacks). */
  storeId: z.string().min(1),
  /** Basic-auth credentials of `POST /token`. */
  consumerKey: z.string().min(1),
  consumerSecret: z.string().min(1),
  /** Merchant callback, POSTed during apply before confirming; null = no callback. */
  callbackUrl: z.string().url().nullable(),
  callbackApiKey: z.string().min(1),
  callbackHash: z.enum(["md5", "sha256"]),
  callbackField: z.enum(["invoice", "account", "both"]),
  callbackTimeoutMs: z.number().int().positive(),
  /** Added latency on every API call. */
  latencyMs: count,
  /** Share (0..1) of API calls answered with HTTP 502 + an HTML page, without processing. */
  errorRate: rate,
  /** Share (0..1) of API calls that never answer (the client times out), without processing. */
  timeoutRate: rate,
  /** Share (0..1) of apply calls that charge but whose answer is lost. */
  lostApplyRate: rate,
  /** How a lost apply answer looks: connection reset, or no answer at all (client timeout). */
  lostApplyMode: z.enum(["reset", "hang"]),
  /** Access-token lifetime (`expires_in`). */
  tokenTtlSeconds: z.number().int().positive(),
  /** WSO2 behaviour: `/token` returns the still-valid token with its remaining lifetime. */
  reuseActiveToken: z.boolean(),
  /** OTP lifetime and wrong tries allowed per transaction (then the transaction is closed). */
  otpTtlSeconds: z.number().int().positive(),
  maxOtpAttempts: z.number().int().positive(),
  /** Deterministic one-shot faults, counted down per matching call. */
  timeoutNext: count,
  failNext: count,
  htmlNext: count,
  loseNextApply: count,
  /**
   * The next N calls answer HTTP 200 with `unrecognisedCode`, a result code the client does not know:
   * `before` = without processing the call, `after` = the call takes effect (e.g. apply charges) and
   * only its answer is replaced.
   */
  unrecognisedCodeNext: count,
  unrecognisedCodeMode: z.enum(["before", "after"]),
  unrecognisedCode: z.string().regex(/^STPIMS-ERR-\d{3}$/),
  /**
   * The next N applies charge but issue no fiscal receipt: the answer carries `ofd_url: null` and
   * `get` has none either (a charge without a receipt, which admin and reconcile must show).
   */
  receiptlessNext: count,
  /** `merchant/pay/get` also returns the transaction's `ofd_url` (whether real ATMOS does is [U]). */
  ofdUrlOnGet: z.boolean(),
  /** Only calls whose path starts with this get the faults above (null = every API path). */
  faultPath: z.string().nullable(),
  /** What `merchant/pay/get` answers for a confirmed payment: OK, or ERR-092 with data. */
  confirmedGetCode: z.enum(["OK", "STPIMS-ERR-092"]),
  /** Per-PAN outcome overrides, e.g. make a bound card fail with insufficient funds later. */
  cardOutcomes: z.record(z.string(), z.enum(SANDBOX_CARD_OUTCOMES)),
});

export type SandboxConfig = z.infer<typeof sandboxConfigSchema>;
export const sandboxConfigPatchSchema = sandboxConfigSchema.partial().strict();
export type SandboxConfigPatch = z.infer<typeof sandboxConfigPatchSchema>;

export const DEFAULT_SANDBOX_CONFIG: SandboxConfig = {
  storeId: "11054",
  consumerKey: "sandbox_consumer_key",
  consumerSecret: "sandbox_consumer_secret",
  callbackUrl: null,
  callbackApiKey: "sandbox_callback_api_key",
  callbackHash: "md5",
  callbackField: "account",
  callbackTimeoutMs: 10_000,
  latencyMs: 0,
  errorRate: 0,
  timeoutRate: 0,
  lostApplyRate: 0,
  lostApplyMode: "reset",
  tokenTtlSeconds: 3600,
  reuseActiveToken: false,
  otpTtlSeconds: 300,
  maxOtpAttempts: 5,
  timeoutNext: 0,
  failNext: 0,
  htmlNext: 0,
  loseNextApply: 0,
  unrecognisedCodeNext: 0,
  unrecognisedCodeMode: "before",
  unrecognisedCode: "STPIMS-ERR-999",
  receiptlessNext: 0,
  ofdUrlOnGet: true,
  faultPath: null,
  confirmedGetCode: "OK",
  cardOutcomes: {},
};
