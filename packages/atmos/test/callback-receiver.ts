import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";

/** A stand-in merchant callback endpoint on a random port that records what ATMOS sends. */
export async function startCallbackReceiver(
  answer: { status: number; body: unknown } = { status: 200, body: { status: 1, message: "Success" } },
) {
  const received: Array<Record<string, unknown>> = [];
  let reply = answer;
  const app = new Hono();
  app.post("/callback", async (c) => {
    received.push(await c.req.json());
    return c.json(reply.body as object, reply.status as 200);
  });
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/callback`,
    received,
    answer(next: { status: number; body: unknown }) {
      reply = next;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
