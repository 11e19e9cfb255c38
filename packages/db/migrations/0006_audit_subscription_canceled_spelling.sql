-- Data only: one spelling for a canceled subscription in the audit log. The user's cancel (auto-renew
-- off, access kept) was written "subscription.cancelled", an operator's cancel (access ends now)
-- "subscription.canceled". Both are "subscription.canceled" from now on; the user's rows carry
-- `autoRenewOff: true` in details, as new ones do, so the two stay apart.
UPDATE "audit_log"
SET "action" = 'subscription.canceled',
    "details" = coalesce("details", '{}'::jsonb) || '{"autoRenewOff": true}'::jsonb
WHERE "action" = 'subscription.cancelled';
