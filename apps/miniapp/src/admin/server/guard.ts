import type { AdminMeResponse } from "@obuna/contracts/http";
import type { GetServerSidePropsContext, GetServerSidePropsResult } from "next";
import { ADMIN_LANG_COOKIE, type AdminLang, isAdminLang } from "../i18n";
import { type Flash, takeFlash } from "./flash";
import { type AdminCall, type AdminResult, adminGateway } from "./gateway";
import { clearAdminSession, readAdminSession, readCookie } from "./session";

/** What every admin page gets: who is signed in and the page's data, or the gateway's error in plain words. */
export interface AdminPageProps<T> {
  actor: string;
  result: { ok: true; data: T } | { ok: false; code: string; message: string };
  /** This page's one-off banner, set by our own API routes (never from the URL). */
  flash: { notice: string | null; error: string | null };
  /** The panel's language (`obuna_admin_lang` cookie, English by default). */
  lang: AdminLang;
}

/** The admin panel language from its cookie; English when unset or unknown. */
export function adminLang(req: GetServerSidePropsContext["req"]): AdminLang {
  const value = readCookie(req, ADMIN_LANG_COOKIE);
  return isAdminLang(value) ? value : "en";
}

function toLogin(ctx: GetServerSidePropsContext): { redirect: { destination: string; permanent: false } } {
  const next = encodeURIComponent(ctx.resolvedUrl);
  return { redirect: { destination: `/admin/login?next=${next}`, permanent: false } };
}

/**
 * getServerSideProps of an admin page: without a valid session → the login page; otherwise loads the
 * page's data from the gateway with the session as Bearer. A 401 anywhere (expired or rotated
 * session) ends the session and goes to the login page too.
 */
export async function loadAdminPage<T>(
  ctx: GetServerSidePropsContext,
  load: (call: AdminCall, bearer: string, flash: Flash | null) => Promise<AdminResult<T>>,
): Promise<GetServerSidePropsResult<AdminPageProps<T>>> {
  ctx.res.setHeader("cache-control", "no-store");
  const bearer = readAdminSession(ctx.req);
  if (!bearer) return toLogin(ctx);
  const flash = takeFlash(ctx.req, ctx.res, bearer);
  const call = adminGateway();
  const [me, result] = await Promise.all([
    call<AdminMeResponse>({ path: "me", bearer }),
    load(call, bearer, flash),
  ]);
  if ((!me.ok && me.status === 401) || (!result.ok && result.status === 401)) {
    clearAdminSession(ctx.req, ctx.res);
    return toLogin(ctx);
  }
  return {
    props: {
      actor: me.ok ? me.data.actor : "admin",
      result: result.ok
        ? { ok: true, data: result.data }
        : { ok: false, code: result.code, message: result.message },
      flash: {
        notice: typeof flash?.notice === "string" ? flash.notice.slice(0, 300) : null,
        error: typeof flash?.error === "string" ? flash.error.slice(0, 500) : null,
      },
      lang: adminLang(ctx.req),
    },
  };
}

/** The string value of a query parameter (first one when repeated). */
export function queryValue(ctx: GetServerSidePropsContext, name: string): string | undefined {
  const value = ctx.query[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first === "" ? undefined : first;
}

/** Forwards the named query parameters (only those) to a gateway list endpoint. */
export function listQuery(
  ctx: GetServerSidePropsContext,
  names: readonly string[],
): Record<string, string | undefined> {
  return Object.fromEntries(names.map((name) => [name, queryValue(ctx, name)]));
}
