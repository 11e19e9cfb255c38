import type { GetServerSideProps } from "next";
import { useEffect, useState } from "react";
import { AdminLayout } from "../../admin/components";
import { type AdminLang, tr, useTr } from "../../admin/i18n";
import { loginMessage, takeFlash } from "../../admin/server/flash";
import { adminLang } from "../../admin/server/guard";
import { readAdminSession, safeAdminPath } from "../../admin/server/session";

interface LoginProps {
  next: string;
  /** From the server-set flash cookie: one of the login page's own sentences, never text from the URL. */
  message: { text: string; error: boolean } | null;
  /** The `obuna_admin_lang` cookie, as on the signed-in pages. */
  lang: AdminLang;
}

/**
 * Inside Telegram (the panel opened from the bot as a Mini App), an admin listed in
 * ADMIN_TELEGRAM_IDS signs in with the signed initData instead of the shared token. Shown only
 * after mount: the initData exists only in the Telegram client, which puts it in the launch URL's
 * fragment (admin pages load no third-party script, so not from telegram-web-app.js).
 */
function TelegramSignIn({ next }: { next: string }) {
  const t = useTr();
  const [initData, setInitData] = useState("");
  useEffect(() => {
    setInitData(new URLSearchParams(window.location.hash.replace(/^#/, "")).get("tgWebAppData") ?? "");
  }, []);
  if (!initData) return null;
  return (
    <form
      method="post"
      action="/api/admin/session"
      className="mb-4 flex max-w-sm flex-col gap-2 rounded border border-gray-200 bg-white p-4"
    >
      <input type="hidden" name="next" value={next} />
      <input type="hidden" name="init_data" value={initData} />
      <button type="submit" className="rounded bg-sky-600 px-3 py-2 font-semibold text-white">
        {t("Sign in with Telegram")}
      </button>
      <p className="text-sm text-gray-600">{t("For Telegram accounts listed in ADMIN_TELEGRAM_IDS.")}</p>
    </form>
  );
}

/** `/admin/login`: the ADMIN_TOKEN goes to our own server (POST /api/admin/session), never to script. */
export default function AdminLogin({ next, message, lang }: LoginProps) {
  return (
    <AdminLayout
      title="Sign in"
      lang={lang}
      langReturnTo={next}
      flash={{
        notice: message && !message.error ? message.text : null,
        error: message?.error ? message.text : null,
      }}
    >
      <TelegramSignIn next={next} />
      <form
        method="post"
        action="/api/admin/session"
        className="flex max-w-sm flex-col gap-3 rounded border border-gray-200 bg-white p-4"
      >
        <input type="hidden" name="next" value={next} />
        <label className="flex flex-col gap-1">
          <span>{tr(lang, "Admin token")}</span>
          <input
            type="password"
            name="token"
            required
            maxLength={512}
            autoComplete="current-password"
            className="rounded border border-gray-300 px-2 py-1"
          />
        </label>
        <button type="submit" className="rounded bg-blue-600 px-3 py-2 font-semibold text-white">
          {tr(lang, "Sign in")}
        </button>
      </form>
    </AdminLayout>
  );
}

export const getServerSideProps: GetServerSideProps<LoginProps> = async (ctx) => {
  ctx.res.setHeader("cache-control", "no-store");
  const next = safeAdminPath(ctx.query.next);
  const lang = adminLang(ctx.req);
  const message = loginMessage(takeFlash(ctx.req, ctx.res, null), lang);
  // A cookie is not proof of a valid session; the next page checks it with the gateway.
  if (readAdminSession(ctx.req) && !message) {
    return { redirect: { destination: next, permanent: false } };
  }
  return { props: { next, message, lang } };
};
