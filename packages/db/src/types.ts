import type { InferInsertModel, InferSelectModel } from "drizzle-orm";
import type * as s from "./schema/index";

export type User = InferSelectModel<typeof s.users>;
export type Plan = InferSelectModel<typeof s.plans>;
export type PaymentSession = InferSelectModel<typeof s.paymentSessions>;
export type NewPaymentSession = InferInsertModel<typeof s.paymentSessions>;
export type Payment = InferSelectModel<typeof s.payments>;
export type NewPayment = InferInsertModel<typeof s.payments>;
export type BoundCard = InferSelectModel<typeof s.boundCards>;
export type NewBoundCard = InferInsertModel<typeof s.boundCards>;
export type Subscription = InferSelectModel<typeof s.subscriptions>;
export type NewSubscription = InferInsertModel<typeof s.subscriptions>;
export type RenewalAttempt = InferSelectModel<typeof s.renewalAttempts>;
export type NewRenewalAttempt = InferInsertModel<typeof s.renewalAttempts>;
export type AtmosCallback = InferSelectModel<typeof s.atmosCallbacks>;
export type AuditLogEntry = InferSelectModel<typeof s.auditLog>;
