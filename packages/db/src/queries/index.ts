export * from "./bound-cards";
export * from "./notification-outbox";
export * from "./payment-sessions";
export * from "./payments";
export * from "./plans";
export * from "./renewals";
export * from "./subscriptions";
export * from "./users";
