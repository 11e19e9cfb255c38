import type { ButtonHTMLAttributes, ReactNode } from "react";

export function Card({ children, className = "" }: { children: ReactNode; className?: string }) {
  return <section className={`rounded-2xl bg-tg-secondary p-4 ${className}`}>{children}</section>;
}

export function Button({
  variant = "primary",
  busy = false,
  className = "",
  children,
  ...rest
}: ButtonHTMLAttributes<HTMLButtonElement> & {
  variant?: "primary" | "secondary" | "danger";
  busy?: boolean;
}) {
  const look =
    variant === "primary"
      ? "bg-tg-button text-tg-button-text"
      : variant === "danger"
        ? "bg-transparent text-tg-destructive border border-tg-destructive"
        : "bg-transparent text-tg-link border border-tg-link";
  return (
    <button
      type="button"
      aria-busy={busy || undefined}
      className={`flex w-full items-center justify-center gap-2 rounded-xl px-4 py-3 text-base font-semibold disabled:opacity-50 ${look} ${className}`}
      {...rest}
    >
      {busy && <Spinner />}
      {children}
    </button>
  );
}

export function Spinner() {
  return (
    <span
      aria-hidden="true"
      className="inline-block h-4 w-4 animate-spin rounded-full border-2 border-current border-t-transparent"
    />
  );
}

export function Alert({ tone, children }: { tone: "error" | "info" | "success"; children: ReactNode }) {
  const color =
    tone === "error" ? "text-tg-destructive" : tone === "success" ? "text-tg-success" : "text-tg-hint";
  return (
    <p role={tone === "error" ? "alert" : "status"} className={`text-sm ${color}`}>
      {children}
    </p>
  );
}

export function Row({ label, value }: { label: string; value: ReactNode }) {
  return (
    <div className="flex justify-between gap-4 py-1">
      <span className="text-tg-hint">{label}</span>
      <span className="text-right font-medium">{value}</span>
    </div>
  );
}
