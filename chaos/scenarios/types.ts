import type { CheckCounts } from "../check";

export interface ScenarioResult {
  name: string;
  /** What the scenario did (kills, faults seen, payments tried...). */
  facts: Record<string, number | string>;
  counts: CheckCounts | null;
  /** The ATMOS ledger at the end, by state. */
  ledgerStates?: string;
  /** Scenario-specific violations on top of the end-state check. */
  violations: string[];
  problems: string[];
  skipped?: string;
  seconds: number;
}

export type Log = (line: string) => void;
