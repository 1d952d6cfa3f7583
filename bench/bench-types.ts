/**
 * Shapes shared by every benchmark scenario and the runner: what a scenario is told (quick or
 * full, where to log) and what it hands back (named figures plus the goal it is judged against).
 */
export type MetricValue = number | string | boolean | null;

interface BenchContext {
  /** Smaller counts for a smoke run (`--quick`). */
  quick: boolean;
  /** Progress lines (stderr), so stdout stays the table. */
  log: (line: string) => void;
}

interface BenchGoal {
  /** The goal in words, e.g. "p50 <= 2 Stripe round trips + 10 ms". */
  description: string;
  /** null when the goal could not be judged (e.g. the step was skipped). */
  met: boolean | null;
}

export interface BenchResult {
  /** Stable id, e.g. "signup-latency". */
  id: string;
  title: string;
  /** Figures by name; units are in the name (`_ms`, `_bytes`, `_s`). */
  metrics: Record<string, MetricValue>;
  /** Knobs the run used (counts, latencies, limits), so a figure can be reproduced. */
  parameters: Record<string, MetricValue>;
  goals: BenchGoal[];
  notes: string[];
  /** Wall time of the scenario, setup included. */
  seconds: number;
  ranAt: string;
}

export interface BenchScenario {
  name: string;
  summary: string;
  run(context: BenchContext): Promise<Array<Omit<BenchResult, 'seconds' | 'ranAt'>>>;
}
