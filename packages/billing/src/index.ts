export * from "./audit";
export * from "./cards";
export * from "./deps";
export * from "./events";
export * from "./payments";
export * from "./provider";
export * from "./stars";
export * from "./subscriptions";
