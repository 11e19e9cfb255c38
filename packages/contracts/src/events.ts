import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { IsoDateTimeSchema, PlanSlugSchema, SubscriptionStatusSchema, TelegramIdSchema } from "./http/common";
import { PaymentRailSchema } from "./http/entitlements";

/**
 * Signed events (docs/integration.md "Signed events"): what Obuna POSTs to the endpoints in
 * EVENTS_ENDPOINTS when premium changes, and how a receiver checks that Obuna sent it.
 * Node only (node:crypto); the miniapp never imports this file.
 */

export const PREMIUM_EVENT_TYPES = [
  "premium.started",
  "premium.renewed",
  "premium.past_due",
  "premium.canceled",
  "premium.ended",
  "premium.refunded",
] as const;
export const PremiumEventTypeSchema = z.enum(PREMIUM_EVENT_TYPES).meta({ id: "PremiumEventType" });
export type PremiumEventType = z.infer<typeof PremiumEventTypeSchema>;

/** Why access ended (`premium.ended` only). */
export const PremiumEndReasonSchema = z.enum(["expired", "canceled", "refunded"]);
export type PremiumEndReason = z.infer<typeof PremiumEndReasonSchema>;

/** The subscription as the change left it (a snapshot: a later change sends its own event). */
export const PremiumEventSubscriptionSchema = z.object({
  id: z.number().int().positive(),
  plan: PlanSlugSchema,
  status: SubscriptionStatusSchema,
  /** Premium now (`active`, or `past_due` in grace), as GET /entitlements would answer. */
  active: z.boolean(),
  /** When access ends as things stand (the grace end while past due), as in GET /entitlements. */
  until: IsoDateTimeSchema,
  auto_renew: z.boolean(),
  rail: PaymentRailSchema,
});

export const PremiumEventSchema = z
  .object({
    /** Unique per event; a retried delivery or a resend carries the same id: dedupe on it. */
    id: z.string().uuid(),
    type: PremiumEventTypeSchema,
    created_at: IsoDateTimeSchema,
    telegram_id: TelegramIdSchema,
    subscription: PremiumEventSubscriptionSchema,
    /** `premium.ended` only: what ended access. */
    reason: PremiumEndReasonSchema.optional(),
  })
  .meta({ id: "PremiumEvent" });
export type PremiumEvent = z.infer<typeof PremiumEventSchema>;

/** The signature header: `Obuna-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. */
export const OBUNA_SIGNATURE_HEADER = "Obuna-Signature";
/** Default tolerance between the signature's timestamp and the receiver's clock. */
export const DEFAULT_SIGNATURE_TOLERANCE_S = 300;

function hmacHex(secret: string, timestamp: number, rawBody: string): string {
  return createHmac("sha256", secret).update(`${timestamp}.${rawBody}`, "utf8").digest("hex");
}

/** The `Obuna-Signature` value for `rawBody` sent at `now` (the renewals worker signs every attempt anew). */
export function signObunaEvent(rawBody: string, secret: string, now: Date = new Date()): string {
  const timestamp = Math.floor(now.getTime() / 1000);
  return `t=${timestamp},v1=${hmacHex(secret, timestamp, rawBody)}`;
}

export type ObunaEventRefusal =
  | "missing_signature"
  | "malformed_signature"
  | "timestamp_out_of_tolerance"
  | "bad_signature"
  | "malformed_body";

/** Thrown by `verifyObunaEvent`: the request is not a genuine, fresh Obuna event. Answer 400/401. */
export class ObunaEventVerificationError extends Error {
  constructor(
    readonly reason: ObunaEventRefusal,
    message: string,
  ) {
    super(message);
    this.name = "ObunaEventVerificationError";
  }
}

export interface VerifyObunaEventOptions {
  /** Largest accepted |now − t| in seconds (default 300): an older (replayed) request is refused. */
  toleranceS?: number;
  /** The receiver's clock (default: now). */
  now?: Date;
}

/**
 * Checks an event as it arrived: `rawBody` exactly as received (before any JSON parsing), the
 * `Obuna-Signature` header, and the EVENTS_SIGNING_SECRET the operator shared. Returns the event, or
 * throws `ObunaEventVerificationError`. Replay-safe together with a dedupe on `event.id`: a captured
 * request is refused once its timestamp is older than the tolerance, and the same id seen twice
 * (a retry, a resend) should be acknowledged without acting twice.
 *
 * Accepts several `v1=` values (a secret being rotated): any one matching is enough.
 */
export function verifyObunaEvent(
  rawBody: string,
  header: string | null | undefined,
  secret: string,
  options: VerifyObunaEventOptions = {},
): PremiumEvent {
  if (!header) throw new ObunaEventVerificationError("missing_signature", "no Obuna-Signature header");
  let timestamp: number | null = null;
  const signatures: string[] = [];
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === "t" && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === "v1" && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
  }
  if (timestamp === null || signatures.length === 0)
    throw new ObunaEventVerificationError("malformed_signature", "Obuna-Signature needs t=<unix>,v1=<hex>");
  const toleranceS = options.toleranceS ?? DEFAULT_SIGNATURE_TOLERANCE_S;
  const nowS = Math.floor((options.now ?? new Date()).getTime() / 1000);
  if (Math.abs(nowS - timestamp) > toleranceS)
    throw new ObunaEventVerificationError(
      "timestamp_out_of_tolerance",
      `signature timestamp is ${nowS - timestamp} s off (tolerance ${toleranceS} s)`,
    );
  const expected = Buffer.from(hmacHex(secret, timestamp, rawBody), "hex");
  const matches = signatures.some((candidate) => timingSafeEqual(Buffer.from(candidate, "hex"), expected));
  if (!matches) throw new ObunaEventVerificationError("bad_signature", "signature does not match the body");
  let event: unknown;
  try {
    event = JSON.parse(rawBody);
  } catch {
    throw new ObunaEventVerificationError("malformed_body", "body is not JSON");
  }
  // Loose on purpose: a receiver built today keeps accepting events that gain fields or types later.
  const shape = event as Partial<PremiumEvent> | null;
  if (
    !shape ||
    typeof shape !== "object" ||
    typeof shape.id !== "string" ||
    typeof shape.type !== "string" ||
    typeof shape.telegram_id !== "number"
  ) {
    throw new ObunaEventVerificationError("malformed_body", "body is not an Obuna event");
  }
  return shape as PremiumEvent;
}
