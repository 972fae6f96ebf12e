// Temporal's limits, kept by the interpreter so that no input can make a workflow task fail
// in a loop: every activity or child input is measured before it is scheduled (one over a
// payload's limit fails its step, naming the size), and the calls in flight are bounded in
// number and in bytes, so one workflow task never asks the server for more than it accepts
// (2,000 pending activities or children per run; a gRPC message of 4 MB per task).
import { ApplicationFailure, condition } from '@temporalio/workflow';
import { FailureTypes, payloadSize } from '../contract';
import { MAX_PAYLOAD_BYTES } from '../dsl/types';

/** Calls (activities and child workflows) a run has in flight at most. */
export const MAX_CALLS_IN_FLIGHT = 1000;
/** Bytes of call inputs in flight at most (a single larger call still runs, alone). */
export const MAX_BYTES_IN_FLIGHT = 1_500_000;

/** Fails (non-retryably) when `args` would not fit one Temporal payload. */
export function checkPayload(args: unknown, what: string): number {
  const size = payloadSize(args);
  if (size > MAX_PAYLOAD_BYTES) {
    throw ApplicationFailure.nonRetryable(
      `${what}: ${size} bytes, over the ${MAX_PAYLOAD_BYTES}-byte limit of a Temporal payload; pass a reference to large data instead`,
      FailureTypes.inputTooLarge,
    );
  }
  return size;
}

/** Admits calls while fewer than MAX_CALLS_IN_FLIGHT and MAX_BYTES_IN_FLIGHT are in flight. */
export class CallGate {
  private calls = 0;
  private bytes = 0;

  /** Runs `call` once it fits; calls that fit at once start without waiting (no new commands). */
  async run<T>(bytes: number, call: () => Promise<T>): Promise<T> {
    if (!this.reserve(bytes)) await condition(() => this.reserve(bytes));
    try {
      return await call();
    } finally {
      this.calls--;
      this.bytes -= bytes;
    }
  }

  /** Whether no call is in flight. */
  idle(): boolean {
    return this.calls === 0;
  }

  private reserve(bytes: number): boolean {
    const fits = this.calls === 0 || (this.calls < MAX_CALLS_IN_FLIGHT && this.bytes + bytes <= MAX_BYTES_IN_FLIGHT);
    if (fits) {
      this.calls++;
      this.bytes += bytes;
    }
    return fits;
  }
}
