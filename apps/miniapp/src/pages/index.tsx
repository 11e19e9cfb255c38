import { useRouter } from "next/router";
import { AppShell } from "../components/AppShell";
import { Checkout } from "../components/Checkout";
import { useLaunch } from "../lib/launch-context";

/** `/?session_id=<uuid>`: the payment_url the bot sends. */
export default function CheckoutPage() {
  const { t } = useLaunch();
  const router = useRouter();
  const raw = router.query.session_id;
  const sessionId = typeof raw === "string" && /^[0-9a-f-]{36}$/i.test(raw) ? raw : null;
  return (
    <AppShell title={t("app.title")}>{router.isReady ? <Checkout sessionId={sessionId} /> : null}</AppShell>
  );
}
