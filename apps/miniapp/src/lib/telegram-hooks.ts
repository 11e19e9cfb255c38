import { useEffect, useRef } from "react";
import { setClosingConfirmation, telegramWebApp } from "./telegram";

/** Mirrors the page's primary action on Telegram's MainButton (when the WebApp API exists). */
export function useMainButton(options: {
  text: string;
  visible: boolean;
  enabled: boolean;
  busy: boolean;
  onClick: () => void;
}) {
  const handlerRef = useRef(options.onClick);
  handlerRef.current = options.onClick;

  useEffect(() => {
    const button = telegramWebApp()?.MainButton;
    if (!button) return;
    const handler = () => handlerRef.current();
    button.onClick(handler);
    return () => {
      button.offClick(handler);
      button.hide();
    };
  }, []);

  const { text, visible, enabled, busy } = options;
  useEffect(() => {
    const button = telegramWebApp()?.MainButton;
    if (!button) return;
    try {
      button.setText(text);
      if (enabled && !busy) button.enable();
      else button.disable();
      if (busy) button.showProgress(false);
      else button.hideProgress();
      if (visible) button.show();
      else button.hide();
    } catch {}
  }, [text, visible, enabled, busy]);
}

/** Shows Telegram's BackButton while `onBack` is set. */
export function useBackButton(onBack: (() => void) | null) {
  const handlerRef = useRef(onBack);
  handlerRef.current = onBack;
  const visible = onBack !== null;

  useEffect(() => {
    const button = telegramWebApp()?.BackButton;
    if (!button || !visible) return;
    const handler = () => handlerRef.current?.();
    button.onClick(handler);
    button.show();
    return () => {
      button.offClick(handler);
      button.hide();
    };
  }, [visible]);
}

/** While a payment is in flight, Telegram asks before closing the Mini App. */
export function useClosingConfirmation(on: boolean) {
  useEffect(() => {
    if (!on) return;
    setClosingConfirmation(true);
    return () => setClosingConfirmation(false);
  }, [on]);
}
