import type { GetServerSideProps } from "next";
import { AdminLayout } from "../../admin/components";

/**
 * `/admin/logout`: a page with a Sign out button. Opening it (a link, an image, a redirect) signs
 * nobody out; only the form's POST to /api/admin/logout does.
 */
export default function AdminLogout() {
  return (
    <AdminLayout title="Sign out">
      <form method="post" action="/api/admin/logout" className="flex max-w-sm flex-col gap-3">
        <button type="submit" className="rounded bg-blue-600 px-3 py-2 font-semibold text-white">
          Sign out
        </button>
      </form>
    </AdminLayout>
  );
}

export const getServerSideProps: GetServerSideProps = async (ctx) => {
  ctx.res.setHeader("cache-control", "no-store");
  return { props: {} };
};
