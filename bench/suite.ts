// The contract between `npm run bench` (bench/index.ts) and its suites (bench/suites/*.ts).
// bench/index.ts starts one environment (a real dev server, a registry, instant agents),
// hands it to each suite in turn, prints one table and writes the rows as JSON.
import type { Client } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';

/** A figure measured several times: every sample kept, so the JSON can be re-analysed. */
export interface Stats {
  median: number;
  min: number;
  max: number;
  n: number;
  samples: number[];
}

/** One line of the table: ours against a reference (hand-written workflow, oras, temporal CLI). */
export interface BenchRow {
  suite: string;
  case: string;
  /** Unit of `ours` and `reference`: 's', 'ms', 'runs/s', 'MB'. */
  unit: string;
  ours: Stats;
  reference?: Stats;
  referenceName?: string;
  /** ours.median / reference.median (for times: below 1 means we are faster). */
  ratio?: number;
  /** The goal the issue set, as text: "≤ 1.05", "< 400 MB". */
  target?: string;
  note?: string;
  /** Anything else measured, kept in the JSON only (e.g. both histories' figures). */
  details?: Record<string, unknown>;
}

export interface BenchEnv {
  /** host:port of the Temporal frontend. */
  address: string;
  namespace: string;
  connection: NativeConnection;
  client: Client;
  /** host:port of the OCI registry (plain HTTP), holding Pallet's workflows and agent cards. */
  registry: string;
  /** Base URL of an agent that answers every skill at once (Pallet's JSON-RPC, A2A at /a2a). */
  agentUrl: string;
  /** Smaller sizes and fewer repetitions (`npm run bench -- --quick`), for a smoke run. */
  quick: boolean;
}

export interface Suite {
  name: string;
  description: string;
  run(env: BenchEnv, report: (row: BenchRow) => void): Promise<void>;
}
