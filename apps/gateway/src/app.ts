import { OpenAPIHono } from "@hono/zod-openapi";
import { maskCardNumbersIn } from "@obuna/contracts/card";
import { type AdminConfig, requireAdmin } from "./admin/auth";
import { registerOpsMetrics } from "./admin/metrics";
import { registerAdmin } from "./admin/routes";
import type { GatewayDeps, HonoEnv } from "./context";
import { registerDocs } from "./docs";
import { errorResponse, handleError, validationHook } from "./errors";
import { createMetrics } from "./metrics";
import { limitRequestBody } from "./middleware/body-limit";
import { initMiddleware } from "./middleware/init";
import { createAbuseLimits } from "./middleware/rate-limit";
import { instrumentProvider } from "./provider-instrumented";
import { registerCheckoutApply } from "./routes/checkout.apply";
import { registerCheckoutCallback } from "./routes/checkout.callback";
import { registerCheckoutCreate } from "./routes/checkout.create";
import { registerCheckoutPreApply } from "./routes/checkout.pre-apply";
import { registerCheckoutResendOtp } from "./routes/checkout.resend-otp";
import { registerEntitlements } from "./routes/entitlements.get";
import { registerHealth } from "./routes/health";
import { registerCreateLink } from "./routes/payment.create-link";
import { registerPaymentSession } from "./routes/payment.session";
import { registerPlansList } from "./routes/plans.list";
import { registerStarsInvoiceLink } from "./routes/stars.invoice-link";
import { registerStarsPreCheckout } from "./routes/stars.pre-checkout";
import { registerStarsRefundedPayment } from "./routes/stars.refunded-payment";
import { registerStarsSessionInvoice } from "./routes/stars.session-invoice";
import { registerStarsSuccessfulPayment } from "./routes/stars.successful-payment";
import { registerSubscriptionCancelResume } from "./routes/subscription.cancel-resume";
import { registerUserCards } from "./routes/user.cards";
import { registerUserLanguage } from "./routes/user.language";
import { registerUserPayments } from "./routes/user.payments";
import { registerUserSubscription } from "./routes/user.subscription";

export const DEFAULT_BODY_LIMIT_BYTES = 64 * 1024;

/** The gateway as a Hono app; everything it touches comes in through `deps` (no globals). */
export function createApp(inputDeps: GatewayDeps, options: { admin?: AdminConfig } = {}) {
  const metrics = inputDeps.metrics ?? createMetrics();
  // Abuse limits live in Redis so every replica shares them (memory only when no Redis is given).
  const limits = createAbuseLimits(inputDeps.redis, inputDeps.config.rateLimits);
  const deps = {
    ...inputDeps,
    metrics,
    limits,
    provider: instrumentProvider(inputDeps.provider, metrics),
  };
  const app = new OpenAPIHono<HonoEnv>({ defaultHook: validationHook });

  app.use("*", initMiddleware(deps));
  app.use("/api/*", limitRequestBody(deps.config.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES));
  app.onError(handleError);
  app.notFound((c) =>
    errorResponse(c, "NOT_FOUND", `No route for ${c.req.method} ${maskCardNumbersIn(c.req.path)}`),
  );

  app.openAPIRegistry.registerComponent("securitySchemes", "internalToken", {
    type: "http",
    scheme: "bearer",
    description:
      "INTERNAL_API_TOKEN (the bot, every token scope) or a SERVICE_TOKENS token (only its scopes; docs/integration.md)",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "telegramInitData", {
    type: "apiKey",
    in: "header",
    name: "Authorization",
    description: "`tma <initData>` from Telegram.WebApp.initData (the Mini App)",
  });

  // Every endpoint, in one visible list.
  registerHealth(app);
  registerPlansList(app);
  registerCreateLink(app);
  registerPaymentSession(app);
  // The checkout steps; each also answers under its deprecated /api/v1/atmos/* path.
  registerCheckoutCreate(app);
  registerCheckoutPreApply(app);
  registerCheckoutResendOtp(app);
  registerCheckoutApply(app);
  registerCheckoutCallback(app);
  registerUserPayments(app);
  registerUserSubscription(app);
  registerUserCards(app);
  registerUserLanguage(app);
  registerEntitlements(app);
  registerSubscriptionCancelResume(app);
  registerStarsInvoiceLink(app);
  registerStarsSessionInvoice(app);
  registerStarsPreCheckout(app);
  registerStarsSuccessfulPayment(app);
  registerStarsRefundedPayment(app);
  registerAdmin(app, options.admin);
  registerOpsMetrics(metrics, deps.db, deps.clock);

  // The public spec (and its UI) leave the admin API out; the whole spec, admin API included, is at
  // /api/v1/admin/openapi.json for admin credentials only.
  const documentConfig = {
    openapi: "3.0.3",
    info: {
      title: "Obuna gateway",
      version: "1.0.0",
      description: "Payment links, card + OTP payments through ATMOS, subscriptions. Errors: docs/errors.md.",
    },
  };
  app.get("/openapi.json", (c) => c.json(publicDocument(app.getOpenAPIDocument(documentConfig))));
  app.get("/api/v1/admin/openapi.json", requireAdmin(options.admin), (c) =>
    c.json(app.getOpenAPIDocument(documentConfig)),
  );
  registerDocs(app);
  return app;
}

/**
 * The spec without the admin API's paths, its security scheme, and the shared schemas only the admin
 * API uses (components.schemas keeps what the public paths reach through `$ref`).
 */
function publicDocument<
  D extends {
    paths?: Record<string, unknown>;
    components?: { securitySchemes?: Record<string, unknown>; schemas?: Record<string, unknown> };
  },
>(document: D): D {
  const paths = Object.fromEntries(
    Object.entries(document.paths ?? {}).filter(([path]) => !path.startsWith("/api/v1/admin/")),
  );
  const { adminToken: _admin, ...securitySchemes } = document.components?.securitySchemes ?? {};
  const allSchemas = document.components?.schemas ?? {};
  const schemas: Record<string, unknown> = {};
  const visit = (node: unknown): void => {
    // Objects and arrays alike (an array's entries are [index, item]).
    if (!node || typeof node !== "object") return;
    for (const [key, value] of Object.entries(node)) {
      const name =
        key === "$ref" && typeof value === "string"
          ? /^#\/components\/schemas\/(.+)$/.exec(value)?.[1]
          : undefined;
      if (name !== undefined && !(name in schemas) && name in allSchemas) {
        schemas[name] = allSchemas[name];
        visit(allSchemas[name]);
      } else visit(value);
    }
  };
  visit(paths);
  return { ...document, paths, components: { ...document.components, securitySchemes, schemas } };
}

export type GatewayApp = ReturnType<typeof createApp>;
