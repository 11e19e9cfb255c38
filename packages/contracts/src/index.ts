export * from "./card";
export * from "./env";
export * from "./errors";
export * from "./http/index";
export * from "./jobs";
export * from "./money";
