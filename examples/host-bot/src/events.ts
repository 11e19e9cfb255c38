import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type PremiumEvent, type PremiumInvalidator, toNodeListener } from "@obuna/grammy";

export interface EventsServerOptions {
  /** The plugin (its `eventsHandler` drops the user's cached premium on each event). */
  plugin: PremiumInvalidator & {
    eventsHandler(options: {
      secret: string;
      onEvent?: (event: PremiumEvent) => unknown;
    }): (request: Request) => Promise<Response>;
  };
  /** OBUNA_EVENTS_SECRET: the EVENTS_SIGNING_SECRET the Obuna operator shared. */
  secret: string;
  port: number;
  /** Where Obuna POSTs (the URL the operator put in EVENTS_ENDPOINTS), default /obuna/events. */
  path?: string;
  host?: string;
  onEvent?: (event: PremiumEvent) => unknown;
}

/**
 * The assistant's webhook for Obuna's signed events: a node:http server whose one route verifies
 * the Obuna-Signature and invalidates the user's cached premium (so a payment shows at once, not
 * after the premium TTL). Everything else is 404.
 */
export async function startEventsServer(
  options: EventsServerOptions,
): Promise<{ server: Server; url: string }> {
  const path = options.path ?? "/obuna/events";
  const handle = toNodeListener(
    options.plugin.eventsHandler({
      secret: options.secret,
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    }),
  );
  const server = createServer((req, res) => {
    if ((req.url ?? "").split("?")[0] !== path) {
      res.writeHead(404).end();
      return;
    }
    void handle(req, res);
  });
  const host = options.host ?? "0.0.0.0";
  await new Promise<void>((resolve) => server.listen(options.port, host, resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}${path}` };
}
