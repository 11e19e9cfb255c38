import { z } from "zod";
import { IsoDateTimeSchema, PlanNamesSchema, PlanSlugSchema, TelegramIdSchema } from "./common";

/**
 * How a subscription is paid: `card` = a bank card (UzCard/Humo through ATMOS; our worker renews it),
 * `stars` = Telegram Stars (Telegram renews a Stars subscription itself). Later rails add their names.
 */
export const PaymentRailSchema = z.enum(["card", "stars"]).meta({ id: "PaymentRail" });
export type PaymentRail = z.infer<typeof PaymentRailSchema>;

/**
 * What a user's premium looks like to another service: GET /api/v1/entitlements/{telegram_id}
 * (a scoped service token, `entitlements:read`). A user the gateway has never seen, or who never
 * paid, is a normal answer (`active: false`, `status: "none"`), not a 404: most users of a host bot
 * never paid, and asking about them is the common case.
 */
export const EntitlementSchema = z
  .object({
    telegram_id: TelegramIdSchema,
    /** Premium now: the subscription is `active`, or `past_due` inside its grace period. */
    active: z.boolean(),
    /** The latest subscription's state; `none` = never subscribed. */
    status: z.enum(["none", "active", "past_due", "canceled", "expired"]),
    /** The plan of the latest subscription (null when none). */
    plan: z.object({ slug: PlanSlugSchema, names: PlanNamesSchema }).nullable(),
    /**
     * When access ends as things stand: the paid period's end, or the grace period's end while past
     * due; for an ended subscription, when it ended. A renewal moves it forward. Null when none.
     */
    until: IsoDateTimeSchema.nullable(),
    /** How the subscription is paid; null when none. */
    rail: PaymentRailSchema.nullable(),
    /** The next period will be charged automatically (by our worker for `card`, by Telegram for `stars`). */
    auto_renew: z.boolean(),
    /** A renewal failed and is being retried: access continues until `until` (= grace end). */
    grace: z.object({ active: z.boolean(), until: IsoDateTimeSchema.nullable() }),
  })
  .meta({ id: "Entitlement" });
export type Entitlement = z.infer<typeof EntitlementSchema>;
