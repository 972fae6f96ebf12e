// What a client of Temporal needs of the composition root (services.ts): the settings, the
// Temporal connection, the search attribute check, Web UI addresses and the registry's data.
// Kept apart from the worker's side (agents, definitions, activities) so that the verbs
// that only read runs (`pallet status`, `runs`, `cancel`) load no agent SDKs nor the DSL.
import { Client, Connection } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { RegistryClaimStore, type ClaimStore } from './claims';
import { PalletSearchAttributes } from './contract';
import { DataStore, PalletRegistry, RegistryClient } from './registry';
import { loadSettings, type Settings } from './settings';

/** Per request to the registry's data repository (an upload or download of up to PALLET_MAX_REPLY_BYTES). */
const DATA_TIMEOUT_MS = 5 * 60_000;

export class ClientServices {
  private made: {
    registry?: PalletRegistry;
    claims?: ClaimStore;
    temporal?: Promise<{ client: Client; connection: Connection }>;
    searchAttributes?: Promise<boolean>;
  } = {};

  constructor(readonly settings: Settings) {}

  get registry(): PalletRegistry {
    return (this.made.registry ??= new PalletRegistry(new RegistryClient(this.settings.registry)));
  }

  /**
   * Where large values of runs are kept (docs/large-data.md): the registry's data repository,
   * through a client of its own whose blob limit is PALLET_MAX_REPLY_BYTES and whose requests
   * may take minutes (a definition's client refuses blobs over 4 MiB).
   */
  get claims(): ClaimStore {
    return (this.made.claims ??= new RegistryClaimStore(
      new DataStore(
        new RegistryClient({ ...this.settings.registry, maxBlobBytes: this.settings.claims.maxBytes, timeoutMs: DATA_TIMEOUT_MS }),
        this.settings.claims.repository,
      ),
    ));
  }

  /** The Temporal client, connected on first use. */
  temporal(): Promise<{ client: Client; connection: Connection }> {
    return (this.made.temporal ??= (async () => {
      const { connection: options, namespace } = this.settings.temporal;
      // A server that is not there is said within seconds, not after the SDK's 10 s.
      const connection = await Connection.connect({ connectTimeout: '3s', ...options }).catch((err: Error) => {
        throw new Error(`cannot reach Temporal at ${options.address} (${err.message}); start a dev server (npm start) or set TEMPORAL_ADDRESS`);
      });
      return { client: new Client({ connection, namespace }), connection };
    })());
  }

  /**
   * Whether the namespace has all of Pallet's search attributes (contract.ts), as Keyword:
   * asked once per process (operator service), since starting or upserting one it lacks is
   * refused. A server that cannot say (no permission, an error) counts as not having them.
   */
  searchAttributesRegistered(): Promise<boolean> {
    return (this.made.searchAttributes ??= (async () => {
      const { connection } = await this.temporal();
      const keyword = encodeSearchAttributeIndexedValueType('KEYWORD');
      try {
        const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: this.settings.temporal.namespace });
        return Object.values(PalletSearchAttributes).every(({ name }) => customAttributes?.[name] === keyword);
      } catch {
        return false;
      }
    })());
  }

  /** Web UI address of a workflow run: its timeline (the run's steps as bars), or the latest run's page. */
  runUrl(workflowId: string, runId?: string): string {
    const base = `${this.settings.uiUrl}/namespaces/${encodeURIComponent(this.settings.temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
    return runId ? `${base}/${encodeURIComponent(runId)}/timeline` : base;
  }

  async close(): Promise<void> {
    const temporal = this.made.temporal;
    this.made.temporal = undefined;
    this.made.searchAttributes = undefined;
    if (temporal) await (await temporal.catch(() => undefined))?.connection.close();
  }
}

let shared: ClientServices | undefined;

/** This process's client services, built from its environment on first use. */
export function clientServices(): ClientServices {
  return (shared ??= new ClientServices(loadSettings()));
}
