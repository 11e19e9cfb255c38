import { defineConfig } from "tsup";
import { nodeApp } from "../../tooling/build/tsup.mjs";

export default defineConfig(nodeApp({ main: "src/main.ts" }));
