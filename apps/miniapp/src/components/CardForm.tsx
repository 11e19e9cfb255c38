import { detectCardType, groupPan, isLocalCardType } from "@obuna/contracts/card";
import { type FormEvent, useId, useState } from "react";
import { validateCard } from "../lib/card-checks";
import type { Translate } from "../lib/i18n";

export interface CardFormValue {
  pan: string;
  /** MM/YY as typed (the gateway accepts MM/YY). */
  expiry: string;
}

/** Formats typing into MM/YY: "1" → "1", "12" → "12/", "1228" → "12/28". */
function formatExpiryInput(value: string, previous: string): string {
  const digits = value.replace(/\D/g, "").slice(0, 4);
  if (digits.length === 1 && Number(digits) > 1) return `0${digits}/`;
  if (digits.length === 2 && value.length > previous.length) return `${digits}/`;
  if (digits.length <= 2) return digits;
  return `${digits.slice(0, 2)}/${digits.slice(2)}`;
}

export function CardForm(props: {
  t: Translate;
  disabled: boolean;
  /** Shown by the parent when the gateway refused the card. */
  submitLabel: string;
  showSubmit: boolean;
  busy: boolean;
  autoRenew: boolean;
  onAutoRenewChange(value: boolean): void;
  autoRenewText: string;
  onSubmit(value: CardFormValue): void;
  formId: string;
}) {
  const { t } = props;
  const [pan, setPan] = useState("");
  const [expiry, setExpiry] = useState("");
  const [touched, setTouched] = useState<{ pan: boolean; expiry: boolean }>({ pan: false, expiry: false });
  const ids = useId();
  const type = detectCardType(pan);
  const problems = validateCard(pan, expiry);

  function submit(event: FormEvent) {
    event.preventDefault();
    setTouched({ pan: true, expiry: true });
    if (props.disabled || problems.pan || problems.expiry) return;
    props.onSubmit({ pan: pan.replace(/\s/g, ""), expiry });
  }

  const panError = touched.pan && problems.pan ? t(problems.pan) : null;
  const expiryError = touched.expiry && problems.expiry ? t(problems.expiry) : null;

  return (
    <form id={props.formId} noValidate onSubmit={submit} className="flex flex-col gap-4">
      <div className="flex flex-col gap-1">
        <label htmlFor={`${ids}-pan`} className="text-sm text-tg-hint">
          {t("checkout.card_number")}
        </label>
        <div className="relative">
          <input
            id={`${ids}-pan`}
            name="cardnumber"
            autoComplete="cc-number"
            inputMode="numeric"
            placeholder="8600 0000 0000 0000"
            value={pan}
            disabled={props.disabled}
            aria-invalid={panError ? true : undefined}
            aria-describedby={`${ids}-pan-msg`}
            onChange={(e) => setPan(groupPan(e.target.value))}
            onBlur={() => setTouched((v) => ({ ...v, pan: pan.length > 0 }))}
            className="w-full rounded-xl border border-tg-hint/40 bg-tg-bg px-3 py-3 font-mono text-lg tracking-wider outline-none focus:border-tg-button"
          />
          {isLocalCardType(type) && (
            <span
              data-testid="card-type"
              className="absolute top-1/2 right-3 -translate-y-1/2 text-sm font-bold text-tg-link"
            >
              {t(type === "uzcard" ? "card.uzcard" : "card.humo")}
            </span>
          )}
        </div>
        <span
          id={`${ids}-pan-msg`}
          className={`text-xs ${panError ? "text-tg-destructive" : "text-tg-hint"}`}
        >
          {panError ?? t("checkout.card_hint")}
        </span>
      </div>
      <div className="flex flex-col gap-1">
        <label htmlFor={`${ids}-exp`} className="text-sm text-tg-hint">
          {t("checkout.expiry")}
        </label>
        <input
          id={`${ids}-exp`}
          name="cc-exp"
          autoComplete="cc-exp"
          inputMode="numeric"
          placeholder="MM/YY"
          value={expiry}
          disabled={props.disabled}
          aria-invalid={expiryError ? true : undefined}
          onChange={(e) => setExpiry(formatExpiryInput(e.target.value, expiry))}
          onBlur={() => setTouched((v) => ({ ...v, expiry: expiry.length > 0 }))}
          className="w-32 rounded-xl border border-tg-hint/40 bg-tg-bg px-3 py-3 font-mono text-lg outline-none focus:border-tg-button"
        />
        {expiryError && <span className="text-xs text-tg-destructive">{expiryError}</span>}
      </div>
      <div className="flex flex-col gap-1">
        <label className="flex items-center justify-between gap-3">
          <span className="font-medium">{t("checkout.autorenew")}</span>
          <input
            type="checkbox"
            role="switch"
            aria-checked={props.autoRenew}
            checked={props.autoRenew}
            disabled={props.disabled}
            onChange={(e) => props.onAutoRenewChange(e.target.checked)}
            className="h-6 w-11 accent-tg-button"
          />
        </label>
        <p className="text-xs text-tg-hint">{props.autoRenewText}</p>
      </div>
      {props.showSubmit && (
        <button
          type="submit"
          disabled={props.disabled}
          aria-busy={props.busy || undefined}
          className="flex w-full items-center justify-center gap-2 rounded-xl bg-tg-button px-4 py-3 text-base font-semibold text-tg-button-text disabled:opacity-50"
        >
          {props.submitLabel}
        </button>
      )}
      <p className="text-xs text-tg-hint">{t("checkout.secure")}</p>
    </form>
  );
}
