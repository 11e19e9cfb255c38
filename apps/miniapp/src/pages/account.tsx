import { Account } from "../components/Account";
import { AppShell } from "../components/AppShell";
import { useLaunch } from "../lib/launch-context";

/** `/account`: subscription, next charge, auto-renew, saved cards and payment history. */
export default function AccountPage() {
  const { t } = useLaunch();
  return (
    <AppShell title={t("account.title")}>
      <Account />
    </AppShell>
  );
}
