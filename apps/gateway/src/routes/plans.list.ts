import { PlanListResponseSchema } from "@obuna/contracts/http";
import { formatSom } from "@obuna/contracts/money";
import { listActivePlans } from "@obuna/db/queries";
import { createRoute, type GatewayApp, okResponse } from "./_shared";

export const route = createRoute({
  method: "get",
  path: "/api/v1/plans",
  tags: ["plans"],
  summary: "Active plans (public; the bot's /premium keyboard)",
  responses: okResponse(PlanListResponseSchema, "Active plans"),
});

export function registerPlansList(app: GatewayApp) {
  app.openapi(route, async (c) => {
    const plans = await listActivePlans(c.get("deps").db);
    return c.json(
      {
        success: true as const,
        data: {
          plans: plans.map((plan) => ({
            slug: plan.slug as "monthly",
            names: { uz: plan.nameUz, ru: plan.nameRu, en: plan.nameEn },
            price: formatSom(plan.price),
            price_raw: plan.price,
            duration_days: plan.durationDays,
            stars_price: plan.starsPrice,
          })),
        },
      },
      200,
    );
  });
}
