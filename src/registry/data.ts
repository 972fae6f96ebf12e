// Run data in the registry: the large values the agent activity keeps out of Temporal's
// history (docs/large-data.md), stored by digest as blobs of one repository (default
// `pallet-data`) with the distribution API's blob upload (POST /v2/<name>/blobs/uploads/,
// then PUT ?digest=) and read back with GET /v2/<name>/blobs/<digest>, checked against the
// digest and size. Each blob is also referenced by a small manifest, so that the registry's
// garbage collection (which deletes blobs no manifest references) keeps it and
// `oras pull <registry>/pallet-data:<tag>` fetches it as a file. The manifest of a run's data
// is tagged `run-<owner hash>-<hex>` and names its owner (the root run's workflow id), so
// `pallet data prune` can delete a closed run's data (data-retention.ts); data stored without
// an owner is tagged `sha256-<hex>` and kept for good.
import { CREATED_ANNOTATION, MEDIA_TYPES, RegistryClient, sha256, TITLE_ANNOTATION, type Descriptor, type ImageManifest } from './client';
import { RegistryError } from './errors';

/** The repository run data goes to unless configured (PALLET_DATA_REPOSITORY). */
export const DATA_REPOSITORY = 'pallet-data';
/** The artifactType of the manifests that keep data blobs. */
export const DATA_ARTIFACT_TYPE = 'application/vnd.pallet.data.v1';

const EMPTY_CONFIG = Buffer.from('{}');

/** The annotation of a data manifest that names its owner. */
export const OWNER_ANNOTATION = 'dev.pallet.owner';

/** The tag that keeps a data blob without owner: `sha256-<hex>` (a tag cannot hold `:`). */
export function dataTag(digest: string): string {
  return digest.replace(':', '-');
}

/** An owner as tags name it: the first 16 hex digits of its SHA-256 (a workflow id may hold any character). */
export function ownerHash(owner: string): string {
  return sha256(owner).slice('sha256:'.length, 'sha256:'.length + 16);
}

/** The tag that keeps an owner's data blob: `run-<owner hash>-<hex>` (85 characters, a valid OCI tag). */
export function ownerTag(owner: string, digest: string): string {
  return `run-${ownerHash(owner)}-${digest.replace('sha256:', '')}`;
}

export type DataTag = { kind: 'owned'; ownerHash: string; digest: string } | { kind: 'unowned'; digest: string };

/** What a tag of the data repository says: an owner's blob, a blob without owner, or undefined for a tag we did not write. */
export function parseDataTag(tag: string): DataTag | undefined {
  let m = /^run-([0-9a-f]{16})-([0-9a-f]{64})$/.exec(tag);
  if (m) return { kind: 'owned', ownerHash: m[1], digest: `sha256:${m[2]}` };
  m = /^sha256-([0-9a-f]{64})$/.exec(tag);
  return m ? { kind: 'unowned', digest: `sha256:${m[1]}` } : undefined;
}

export interface PutOptions {
  /** The layer's file name for `oras pull` (default: the hex digest). */
  title?: string;
  /** The workflow id of the root run the data belongs to; without it the data is kept for good. */
  owner?: string;
}

export class DataStore {
  private config?: Promise<Descriptor>;

  constructor(
    /** A client whose maxBlobBytes and timeout suit large data. */
    readonly client: RegistryClient,
    readonly repository: string = DATA_REPOSITORY,
  ) {}

  /** `host/repository`, for messages. */
  get location(): string {
    return `${this.client.registry}/${this.repository}`;
  }

  /**
   * Stores bytes (once: a digest already there is not uploaded again) and the manifest that
   * keeps them, tagged for their owner if any; returns the blob's descriptor. Throws
   * RegistryError (see isRetryable).
   */
  async put(data: Buffer, mediaType: string, options: PutOptions = {}): Promise<Descriptor> {
    const blob = await this.client.pushBlob(this.repository, data, mediaType);
    this.config ??= this.client.pushBlob(this.repository, EMPTY_CONFIG, MEDIA_TYPES.empty).catch((err: unknown) => {
      this.config = undefined;
      throw err;
    });
    const config = await this.config;
    const { title, owner } = options;
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      artifactType: DATA_ARTIFACT_TYPE,
      config: { ...config, data: EMPTY_CONFIG.toString('base64') },
      layers: [{ ...blob, annotations: { [TITLE_ANNOTATION]: title ?? blob.digest.replace('sha256:', '') } }],
    };
    if (!owner) {
      // No creation time: the same data gives the same manifest, so storing it again changes nothing.
      await this.pushManifest(dataTag(blob.digest), manifest, data, mediaType);
      return blob;
    }
    // With a creation time, storing again moves the tag to a new manifest: a prune that read the
    // old one before a retry of the owner stored it again deletes the old digest, not the tag.
    const tag = ownerTag(owner, blob.digest);
    const created = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const previous = await this.client.resolve(`${this.repository}:${tag}`).catch((err: unknown) => {
      if (err instanceof RegistryError && err.code === 'not_found') return undefined;
      throw err;
    });
    manifest.annotations = { [OWNER_ANNOTATION]: owner, [CREATED_ANNOTATION]: created };
    const digest = await this.pushManifest(tag, manifest, data, mediaType);
    // The superseded manifest would keep the blob on disk after the owner's data is pruned;
    // a worker that may not delete leaves it (nothing depends on it).
    if (previous && previous.digest !== digest) await this.client.deleteManifest(this.repository, previous.digest).catch(() => undefined);
    return blob;
  }

  /**
   * Pushes a manifest; when the registry no longer has its blob (a prune deleted it after
   * pushBlob found it there), uploads the blob again and retries once.
   */
  private async pushManifest(tag: string, manifest: ImageManifest, data: Buffer, mediaType: string): Promise<string> {
    try {
      return await this.client.pushManifest(this.repository, tag, manifest);
    } catch (err) {
      if (!(err instanceof RegistryError && err.status === 400 && /BLOB_UNKNOWN/.test(err.message))) throw err;
      await this.client.pushBlob(this.repository, data, mediaType);
      return this.client.pushManifest(this.repository, tag, manifest);
    }
  }

  /** The bytes of a digest, checked against it and `size`. Throws RegistryError; a missing blob is `not_found`. */
  async get(digest: string, size: number, mediaType = 'application/octet-stream'): Promise<Buffer> {
    try {
      return await this.client.getBlob(this.repository, { digest, size, mediaType });
    } catch (err) {
      if (err instanceof RegistryError && err.code === 'not_found') {
        throw new RegistryError(
          `data ${digest} (${size} bytes) is not in registry ${this.location}: it was deleted, or it was stored in another registry or repository (PALLET_REGISTRY, PALLET_DATA_REPOSITORY)`,
          'not_found',
          `${this.location}@${digest}`,
          err.status,
          { cause: err },
        );
      }
      throw err;
    }
  }

  /** The digest `put` gives to these bytes. */
  static digest(data: Buffer): string {
    return sha256(data);
  }
}
