import { z } from "zod";
import { runJanitor } from "../core/janitor";
import { runMaintenance } from "../core/maintenance";
import { sendPriceChangeNotices } from "../core/price-notices";
import { defineProcessor } from "./base";

const empty = z.object({}).passthrough();

export const janitorProcessor = defineProcessor(empty, (ctx) => runJanitor(ctx));
export const maintenanceProcessor = defineProcessor(empty, (ctx) => runMaintenance(ctx));
export const priceNoticesProcessor = defineProcessor(empty, async (ctx) => ({
  sent: await sendPriceChangeNotices(ctx),
}));
