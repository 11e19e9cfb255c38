export * from "./client";
export * from "./crypto";
export * from "./env";
export * from "./migrate";
export * from "./seed";
export * from "./types";
export * as schema from "./schema/index";
