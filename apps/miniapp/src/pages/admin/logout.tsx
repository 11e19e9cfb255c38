import type { GetServerSideProps } from "next";
import { AdminLayout } from "../../admin/components";
import { type AdminLang, tr } from "../../admin/i18n";
import { adminLang } from "../../admin/server/guard";

/**
 * `/admin/logout`: a page with a Sign out button. Opening it (a link, an image, a redirect) signs
 * nobody out; only the form's POST to /api/admin/logout does.
 */
export default function AdminLogout({ lang }: { lang: AdminLang }) {
  return (
    <AdminLayout title="Sign out" lang={lang}>
      <form method="post" action="/api/admin/logout" className="flex max-w-sm flex-col gap-3">
        <button type="submit" className="rounded bg-blue-600 px-3 py-2 font-semibold text-white">
          {tr(lang, "Sign out")}
        </button>
      </form>
    </AdminLayout>
  );
}

export const getServerSideProps: GetServerSideProps<{ lang: AdminLang }> = async (ctx) => {
  ctx.res.setHeader("cache-control", "no-store");
  return { props: { lang: adminLang(ctx.req) } };
};
