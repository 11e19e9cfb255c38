export * from "./card";
export * from "./env";
export * from "./errors";
export * from "./jobs";
export * from "./money";
export * from "./http/index";
