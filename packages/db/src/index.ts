export * from "./client";
export * from "./crypto";
export * from "./env";
export * from "./migrate";
export * from "./pipeline";
export * from "./rotate-card-key";
export * as schema from "./schema/index";
export * from "./seed";
export * from "./types";
