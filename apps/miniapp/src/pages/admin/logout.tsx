import type { GetServerSideProps } from "next";
import { clearAdminSession } from "../../admin/server/session";

/** `/admin/logout`: forgets the session cookie and shows the login page. */
export default function AdminLogout() {
  return null;
}

export const getServerSideProps: GetServerSideProps = async (ctx) => {
  ctx.res.setHeader("cache-control", "no-store");
  clearAdminSession(ctx.req, ctx.res);
  return { redirect: { destination: "/admin/login?signed_out=1", permanent: false } };
};
