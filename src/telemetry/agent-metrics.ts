// Pallet's metrics of agent calls, recorded by the callAgent activity through the activity's metricMeter
// (the SDK adds namespace, task_queue and activity_type). Labels stay bounded: the skill and the agent's
// card name, never a workflow or step id.
import type { MetricMeter } from '@temporalio/common';

export interface AgentCallLabels {
  skill: string;
  agent: string;
}

export class AgentCallMetrics {
  constructor(private readonly meter: MetricMeter) {}

  /** One call of the agent ended: how long it took (ms) and how (ok, input_required, or a failure type). */
  called(labels: AgentCallLabels, ms: number, outcome: string): void {
    this.meter
      .createHistogram('pallet_agent_call_latency', 'int', 'ms', 'Agent call latency by skill and agent')
      .record(Math.max(0, Math.round(ms)), { ...labels, outcome });
  }

  /** A call failed: `kind` is the failure type (AgentServerError, AgentTimeout, AgentUnavailable, ...). */
  failed(labels: Partial<AgentCallLabels>, kind: string): void {
    this.meter
      .createCounter('pallet_agent_call_errors', 'calls', 'Failed agent calls by skill, agent and kind')
      .add(1, { skill: labels.skill ?? '', agent: labels.agent ?? '', kind });
  }

  /** An attempt after the first (Temporal retrying the activity). */
  retried(skill: string): void {
    this.meter.createCounter('pallet_agent_call_retries', 'attempts', 'Agent call attempts after the first, by skill').add(1, { skill });
  }

  /** Bytes of a result stored in the registry by claim check. */
  claimStored(skill: string, bytes: number): void {
    if (bytes > 0) this.meter.createCounter('pallet_claim_check_bytes', 'bytes', 'Bytes of results stored by claim check').add(bytes, { skill });
  }

  /** The agent asked a question (input required): the run waits for `pallet reply`. */
  asked(labels: AgentCallLabels): void {
    this.meter.createCounter('pallet_agent_questions', 'questions', 'Questions agents asked (runs then wait for pallet reply)').add(1, { ...labels });
  }
}
