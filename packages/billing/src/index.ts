export * from "./audit";
export * from "./deps";
export * from "./payments";
export * from "./provider";
export * from "./subscriptions";
export * from "./stars";
