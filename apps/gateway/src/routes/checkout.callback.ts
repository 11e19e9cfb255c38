import { AtmosCallbackRequestSchema, AtmosCallbackResponseSchema } from "@obuna/contracts/http";
import { errorResponse, errorResponses } from "../errors";
import { handleProviderCallback, oversizedCallbackField } from "../services/checkout/callback";
import { createRoute, deprecatedAlias, documentAlias, type GatewayApp } from "./_shared";

export const route = createRoute({
  method: "post",
  path: "/api/v1/checkout/callback",
  tags: ["checkout"],
  summary: "The provider's payment callback (ATMOS: authorisation check before the debit; signed)",
  request: {
    body: { content: { "application/json": { schema: AtmosCallbackRequestSchema } }, required: false },
  },
  responses: {
    200: {
      description: "status 1 = accepted, 0 = refused (with the reason)",
      content: { "application/json": { schema: AtmosCallbackResponseSchema } },
    },
    400: {
      description: "A field is over its size bound (VALIDATION_ERROR naming it): nothing stored",
      content: errorResponses[400].content,
    },
  },
});
/** The URL configured in the ATMOS dashboard until it is changed there. */
export const aliasRoute = deprecatedAlias(route, "/api/v1/atmos/callback");

export function registerCheckoutCallback(app: GatewayApp) {
  app.openAPIRegistry.registerPath(route);
  documentAlias(app, route, aliasRoute.path);
  for (const r of [route, aliasRoute]) registerOne(app, r);
}

function registerOne(app: GatewayApp, route: typeof aliasRoute) {
  // Not `app.openapi`: the body is read leniently (ATMOS sends strings or numbers; a malformed
  // body is refused with status 0 and recorded), and ATMOS expects its own reply shape, not ours.
  app.post(route.path, async (c) => {
    const text = await c.req.text();
    let body: unknown = null;
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
    const oversized = oversizedCallbackField(body);
    if (oversized !== null) {
      const { metrics, logger } = c.get("deps");
      metrics.callbacksRefusedTooLarge.inc();
      logger.warn({ field: oversized }, "atmos callback with an oversized field refused");
      return errorResponse(c, "VALIDATION_ERROR", `${oversized}: too large`, { field: oversized });
    }
    const reply = await handleProviderCallback(c.get("deps"), body, text);
    return c.json(reply, 200);
  });
}
