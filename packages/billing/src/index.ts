export * from "./audit";
export * from "./cards";
export * from "./provider";
