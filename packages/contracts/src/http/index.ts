export * from "./account";
export * from "./admin";
export * from "./common";
export * from "./payment";
