export * from "./audit";
export * from "./provider";
