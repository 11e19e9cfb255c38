-- Backfill bound_cards.status from the flags that expressed it before (issue 18):
--   card_token null (erased by the token-erasure job)  → erased
--   removed_at set (removed by its user or an admin, or parked by a pre-issue-17 payment) → removed
--   is_active false (deactivated by an admin or by a hard decline) → deactivated
--   otherwise → active
-- and makes the old columns agree with it, so the check constraints of the next migration hold.
UPDATE "bound_cards" SET
  "status" = CASE
    WHEN "card_token" IS NULL THEN 'erased'::"bound_card_status"
    WHEN "removed_at" IS NOT NULL THEN 'removed'::"bound_card_status"
    WHEN NOT "is_active" THEN 'deactivated'::"bound_card_status"
    ELSE 'active'::"bound_card_status"
  END;--> statement-breakpoint
UPDATE "bound_cards" SET
  "is_active" = ("status" = 'active'),
  "removed_at" = CASE WHEN "status" IN ('removed', 'erased') THEN COALESCE("removed_at", "updated_at") ELSE NULL END;
