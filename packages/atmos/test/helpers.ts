import { type AtmosClientConfig, createAtmosClient, isAtmosError } from "../src/index";
import { type RunningSandbox, type SandboxOptions, startSandbox } from "../src/sandbox/index";

export const CREDENTIALS = {
  consumerKey: "test_consumer_key",
  consumerSecret: "test_consumer_secret",
  storeId: "7001",
  callbackApiKey: "test_callback_key",
};

/** A clock both sides share, moved by hand. */
export function fakeClock(start = Date.UTC(2026, 0, 15, 9, 0, 0)) {
  let current = start;
  return {
    now: () => current,
    advance(ms: number) {
      current += ms;
    },
  };
}

export async function setup(
  options: {
    sandbox?: SandboxOptions;
    client?: Partial<AtmosClientConfig>;
    clock?: ReturnType<typeof fakeClock>;
  } = {},
) {
  const clock = options.clock;
  const sandbox: RunningSandbox = await startSandbox({
    consumerKey: CREDENTIALS.consumerKey,
    consumerSecret: CREDENTIALS.consumerSecret,
    storeId: CREDENTIALS.storeId,
    callbackApiKey: CREDENTIALS.callbackApiKey,
    ...(clock ? { now: clock.now } : {}),
    ...options.sandbox,
  });
  const client = createAtmosClient({
    baseUrl: sandbox.url,
    consumerKey: CREDENTIALS.consumerKey,
    consumerSecret: CREDENTIALS.consumerSecret,
    storeId: CREDENTIALS.storeId,
    retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
    ...(clock ? { now: clock.now } : {}),
    ...options.client,
  });
  const tokenRequests = () => sandbox.requests().filter((r) => r.path === "/token").length;
  const calls = (path: string) => sandbox.requests().filter((r) => r.path === path).length;
  return { sandbox, client, tokenRequests, calls };
}

/** Runs `fn`, expects an AtmosError and returns it. */
export async function atmosFailure(fn: () => Promise<unknown>) {
  try {
    await fn();
  } catch (error) {
    if (isAtmosError(error)) return error;
    throw error;
  }
  throw new Error("expected an AtmosError, the call succeeded");
}
