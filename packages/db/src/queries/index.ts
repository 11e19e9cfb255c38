export * from "./bound-cards";
export * from "./payments";
export * from "./plans";
export * from "./subscriptions";
export * from "./users";
