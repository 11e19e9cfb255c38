import { isProviderError, type PaymentProvider } from "@obuna/billing";
import type { GatewayMetrics } from "./metrics";

/**
 * Wraps every asynchronous PaymentProvider method to record its latency and outcome (ok or the
 * error kind) in the provider-call histogram; `verifyCallback` (synchronous, no network) is left as is.
 */
export function instrumentProvider(provider: PaymentProvider, metrics: GatewayMetrics): PaymentProvider {
  return new Proxy(provider, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== "function" || property === "verifyCallback") return value;
      return async (...args: unknown[]) => {
        const end = metrics.atmosCalls.startTimer({ method: String(property) });
        try {
          const result = await value.apply(target, args);
          end({ outcome: "ok" });
          return result;
        } catch (error) {
          end({ outcome: isProviderError(error) ? error.kind : "error" });
          throw error;
        }
      };
    },
  });
}
