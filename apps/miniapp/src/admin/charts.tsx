import type { ReactNode } from "react";

/**
 * Server-rendered SVG charts for the admin dashboard: no chart library, no client script (the
 * admin pages have their own chunks; the checkout bundle never sees this file).
 */

const W = 640;
const H = 180;
const PAD = { left: 84, right: 8, top: 10, bottom: 22 };

export interface ChartProps {
  title: string;
  /** Every day of the window, oldest first (YYYY-MM-DD). */
  dates: readonly string[];
  values: readonly number[];
  kind: "bar" | "line";
  /** Axis and tooltip text of a value. */
  format: (value: number) => string;
  /** A fixed top of the scale (e.g. 1 for a rate). */
  max?: number;
  testId: string;
  footer?: ReactNode;
}

export function SeriesChart({ title, dates, values, kind, format, max, testId, footer }: ChartProps) {
  const highest = Math.max(max ?? 0, ...values, 0);
  const top = highest || 1;
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const step = innerW / Math.max(dates.length, 1);
  const x = (i: number) => PAD.left + i * step + step / 2;
  const y = (v: number) => PAD.top + innerH - (v / top) * innerH;
  // Gridlines at 0, half and top, each label once (an all-zero chart shows only 0).
  const ticks = (highest === 0 ? [0] : [0, top / 2, top]).filter(
    (tick, i, all) => all.findIndex((other) => format(other) === format(tick)) === i,
  );
  const labelEvery = Math.ceil(dates.length / 6);
  const line = values.map((v, i) => `${i === 0 ? "M" : "L"}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
  return (
    <figure className="flex flex-col gap-1 rounded border border-gray-200 bg-white p-3" data-testid={testId}>
      <figcaption className="text-sm font-semibold text-gray-700">{title}</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title} className="h-auto w-full">
        {ticks.map((tick) => (
          <g key={tick}>
            <line x1={PAD.left} x2={W - PAD.right} y1={y(tick)} y2={y(tick)} stroke="#e5e7eb" />
            <text x={PAD.left - 4} y={y(tick) + 4} textAnchor="end" fontSize="10" fill="#6b7280">
              {format(tick)}
            </text>
          </g>
        ))}
        {kind === "bar" &&
          values.map((v, i) => (
            <rect
              key={dates[i]}
              x={x(i) - step * 0.35}
              y={y(v)}
              width={step * 0.7}
              height={Math.max(0, PAD.top + innerH - y(v))}
              fill="#2563eb"
              data-date={dates[i]}
              data-value={v}
            >
              <title>{`${dates[i]}: ${format(v)}`}</title>
            </rect>
          ))}
        {kind === "line" && values.length > 0 && (
          <>
            <path d={line} fill="none" stroke="#16a34a" strokeWidth="2" />
            {values.map((v, i) => (
              <circle
                key={dates[i]}
                cx={x(i)}
                cy={y(v)}
                r="2"
                fill="#16a34a"
                data-date={dates[i]}
                data-value={v}
              >
                <title>{`${dates[i]}: ${format(v)}`}</title>
              </circle>
            ))}
          </>
        )}
        {dates.map((d, i) =>
          i % labelEvery === 0 || i === dates.length - 1 ? (
            <text key={d} x={x(i)} y={H - 6} textAnchor="middle" fontSize="10" fill="#6b7280">
              {d.slice(5)}
            </text>
          ) : null,
        )}
      </svg>
      {footer}
    </figure>
  );
}

/** Sums `value(row)` per date over the rows that pass `keep`, aligned to `dates` (0 for missing days). */
export function perDay<T extends { date: string }>(
  dates: readonly string[],
  rows: readonly T[],
  value: (row: T) => number,
  keep: (row: T) => boolean = () => true,
): number[] {
  const byDate = new Map<string, number>();
  for (const row of rows) if (keep(row)) byDate.set(row.date, (byDate.get(row.date) ?? 0) + value(row));
  return dates.map((d) => byDate.get(d) ?? 0);
}
