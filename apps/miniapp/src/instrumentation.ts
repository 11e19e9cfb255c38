/** Runs once when `next start` boots: a bad environment stops the server before it serves anything. */
export async function register(): Promise<void> {
  // biome-ignore lint/style/noProcessEnv: Next's documented runtime switch; it removes the Edge branch at build time.
  if (process.env.NEXT_RUNTIME === "nodejs") {
    const { serverEnv } = await import("./env");
    serverEnv();
  }
}
