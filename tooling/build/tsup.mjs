// The one build recipe of the Node apps (gateway, bot, renewals): `pnpm build` → dist/*.js that runs on
// plain `node`, without tsx or any devDependency.
// - Our packages (@obuna/*) export TypeScript source, so they are bundled into the app.
// - Every other bare import stays external: it is a real npm dependency and must be listed in the
//   app's `dependencies` (test/build.smoke.test.ts in each app checks that and runs the result).
// - ESM for Node 20 (the oldest Node we support; production runs 22/24 LTS), with source maps
//   (`node --enable-source-maps`), so stack traces point at src/*.ts.
/** @param {Record<string, string>} entry name → source file */
export function nodeApp(entry) {
  return {
    entry,
    format: ["esm"],
    platform: "node",
    target: "node20",
    sourcemap: true,
    clean: true,
    splitting: false,
    dts: false,
    // Keep `node:` specifiers (tsup 8 strips them by default).
    removeNodeProtocol: false,
    // dist/metafile-esm.json: what the bundle imports, checked against `dependencies` by the smoke test.
    metafile: true,
    noExternal: [/^@obuna\//],
    external: [/^[^./@]/, /^@(?!obuna\/)/],
  };
}
