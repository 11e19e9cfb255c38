export * from "./account";
export * from "./admin";
export * from "./common";
export * from "./entitlements";
export * from "./payment";
export * from "./stars";
