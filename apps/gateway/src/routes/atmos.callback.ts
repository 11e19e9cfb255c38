import { AtmosCallbackRequestSchema, AtmosCallbackResponseSchema } from "@obuna/contracts/http";
import { handleAtmosCallback } from "../services/callback";
import { createRoute, type GatewayApp } from "./_shared";

export const route = createRoute({
  method: "post",
  path: "/api/v1/atmos/callback",
  tags: ["atmos"],
  summary: "ATMOS payment callback (authorisation check before the debit; signed)",
  request: {
    body: { content: { "application/json": { schema: AtmosCallbackRequestSchema } }, required: false },
  },
  responses: {
    200: {
      description: "status 1 = accepted, 0 = refused (with the reason)",
      content: { "application/json": { schema: AtmosCallbackResponseSchema } },
    },
  },
});

export function registerAtmosCallback(app: GatewayApp) {
  // Not `app.openapi`: the body is read leniently (ATMOS sends strings or numbers; a malformed
  // body is refused with status 0 and recorded), and ATMOS expects its own reply shape, not ours.
  app.openAPIRegistry.registerPath(route);
  app.post(route.path, async (c) => {
    let body: unknown = null;
    try {
      body = JSON.parse(await c.req.text());
    } catch {
      body = null;
    }
    const reply = await handleAtmosCallback(c.get("deps"), body);
    return c.json(reply, 200);
  });
}
