import { type FormEvent, useEffect, useId, useState } from "react";
import type { Translate } from "../lib/i18n";

export function OtpForm(props: {
  t: Translate;
  formId: string;
  phoneMasked: string | null;
  attemptsLeft: number | null;
  resendAvailableAt: number;
  disabled: boolean;
  busy: boolean;
  showSubmit: boolean;
  error: string | null;
  notice: string | null;
  onSubmit(otp: string): void;
  onResend(): void;
  onBack(): void;
}) {
  const { t } = props;
  const [otp, setOtp] = useState("");
  const [formatError, setFormatError] = useState(false);
  const [now, setNow] = useState(() => Date.now());
  const ids = useId();

  useEffect(() => {
    if (props.resendAvailableAt <= Date.now()) return;
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, [props.resendAvailableAt]);

  // A wrong code is cleared so the next one is typed fresh.
  useEffect(() => {
    if (props.error) setOtp("");
  }, [props.error]);

  const secondsLeft = Math.max(0, Math.ceil((props.resendAvailableAt - now) / 1000));

  function submit(event: FormEvent) {
    event.preventDefault();
    if (props.disabled) return;
    if (!/^\d{6}$/.test(otp)) {
      setFormatError(true);
      return;
    }
    setFormatError(false);
    props.onSubmit(otp);
  }

  return (
    <form id={props.formId} noValidate onSubmit={submit} className="flex flex-col gap-3">
      <h2 className="text-base font-semibold">{t("otp.title")}</h2>
      <p className="text-sm" data-testid="otp-sent">
        {props.phoneMasked ? t("otp.sent_to", { phone: props.phoneMasked }) : t("otp.sent")}
      </p>
      <label htmlFor={`${ids}-otp`} className="text-sm text-tg-hint">
        {t("otp.label")}
      </label>
      <input
        id={`${ids}-otp`}
        name="otp"
        autoComplete="one-time-code"
        inputMode="numeric"
        maxLength={6}
        pattern="\d{6}"
        placeholder="••••••"
        value={otp}
        disabled={props.disabled}
        aria-invalid={formatError || props.error ? true : undefined}
        onChange={(e) => setOtp(e.target.value.replace(/\D/g, "").slice(0, 6))}
        className="w-44 rounded-xl border border-tg-hint/40 bg-tg-bg px-3 py-3 text-center font-mono text-2xl tracking-[0.4em] outline-none focus:border-tg-button"
      />
      {formatError && <p className="text-sm text-tg-destructive">{t("otp.error.format")}</p>}
      {props.error && (
        <p role="alert" className="text-sm text-tg-destructive">
          {props.error}
        </p>
      )}
      {props.attemptsLeft !== null && (
        <p data-testid="attempts-left" className="text-sm text-tg-hint">
          {t("otp.attempts_left", { n: props.attemptsLeft })}
        </p>
      )}
      {props.notice && (
        <p role="status" className="text-sm text-tg-success">
          {props.notice}
        </p>
      )}
      {props.showSubmit && (
        <button
          type="submit"
          disabled={props.disabled}
          aria-busy={props.busy || undefined}
          className="flex w-full items-center justify-center rounded-xl bg-tg-button px-4 py-3 text-base font-semibold text-tg-button-text disabled:opacity-50"
        >
          {t("otp.confirm")}
        </button>
      )}
      <div className="flex items-center justify-between gap-2 text-sm">
        <button
          type="button"
          className="text-tg-link disabled:text-tg-hint"
          disabled={props.disabled}
          onClick={props.onBack}
        >
          {t("otp.back")}
        </button>
        <button
          type="button"
          className="text-tg-link disabled:text-tg-hint"
          disabled={props.disabled || secondsLeft > 0}
          onClick={props.onResend}
        >
          {secondsLeft > 0 ? t("otp.resend_in", { s: secondsLeft }) : t("otp.resend")}
        </button>
      </div>
    </form>
  );
}
