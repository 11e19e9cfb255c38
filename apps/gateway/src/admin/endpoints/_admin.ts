import type { MiddlewareHandler } from "hono";
import type { HonoEnv } from "../../context";
import { IdParam, z } from "../../routes/_shared";

/** What every admin endpoint file shares: the security scheme, the tag and the `{id}` param. */
export const adminSecurity: Array<Record<string, string[]>> = [{ adminToken: [] }];
export const ADMIN_TAG = "admin";
export const idParams = z.object({ id: IdParam("id") });
export type AdminGuard = MiddlewareHandler<HonoEnv>;
