// The OCI registry: references, a native distribution-API client, Pallet's layout on top.
export { RegistryError, isRetryable, type RegistryErrorCode } from './errors';
export type { Credentials } from './auth';
export {
  agentReference,
  agentShortName,
  DEFAULT_PALLET_TAG,
  formatReference,
  hasRegistryHost,
  isDigest,
  parseReference,
  workflowReference,
  type Reference,
} from './reference';
export {
  CREATED_ANNOTATION,
  MEDIA_TYPES,
  RegistryClient,
  sha256,
  TITLE_ANNOTATION,
  type Descriptor,
  type FileToPush,
  type ImageManifest,
  type PulledFile,
  type RegistryClientOptions,
} from './client';
export { credentialsFor, dockerConfigCredentials, dockerConfigPath, envCredentials } from './credentials';
export { JSON_MEDIA_TYPE, PalletRegistry, preferredTag, YAML_MEDIA_TYPE, type ListedAgentCard, type ListedWorkflow, type PulledWorkflow } from './store';
export {
  DATA_ARTIFACT_TYPE,
  DATA_REPOSITORY,
  DataStore,
  dataTag,
  OWNER_ANNOTATION,
  ownerHash,
  ownerTag,
  parseDataTag,
  type DataTag,
  type PutOptions,
} from './data';
export {
  dataInventory,
  pruneData,
  verdict,
  type DataInventory,
  type OwnerData,
  type OwnerRun,
  type OwnerVerdict,
  type PruneOptions,
  type PruneReport,
} from './data-retention';
export { createRegistry, DEFAULT_REGISTRY, registryFromEnv, type RegistrySettings } from './config';
