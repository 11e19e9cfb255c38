import type { AtmosClient } from "@obuna/atmos";
import { isAtmosError } from "@obuna/atmos";
import type { GatewayMetrics } from "./metrics";

/** Wraps every AtmosClient method to record its latency and outcome (ok or the error kind). */
export function instrumentAtmos(client: AtmosClient, metrics: GatewayMetrics): AtmosClient {
  return new Proxy(client, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        const end = metrics.atmosCalls.startTimer({ method: String(property) });
        try {
          const result = await value.apply(target, args);
          end({ outcome: "ok" });
          return result;
        } catch (error) {
          end({ outcome: isAtmosError(error) ? error.kind : "error" });
          throw error;
        }
      };
    },
  });
}
