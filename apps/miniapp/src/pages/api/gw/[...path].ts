import type { NextApiRequest, NextApiResponse } from "next";
import { serverEnv } from "../../../env";
import { createGatewayProxy } from "../../../server/gateway-proxy";

export const config = { api: { bodyParser: false, responseLimit: false } };

let proxy: ReturnType<typeof createGatewayProxy> | undefined;

export default function handler(req: NextApiRequest, res: NextApiResponse): Promise<void> {
  if (!proxy) {
    const env = serverEnv();
    proxy = createGatewayProxy({ gatewayUrl: env.GATEWAY_URL, timeoutMs: env.GATEWAY_TIMEOUT_MS });
  }
  return proxy(req, res);
}
