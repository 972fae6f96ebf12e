// Run data in the registry: the large values the agent activity keeps out of Temporal's
// history (docs/large-data.md), stored by digest as blobs of one repository (default
// `pallet-data`) with the distribution API's blob upload (POST /v2/<name>/blobs/uploads/,
// then PUT ?digest=) and read back with GET /v2/<name>/blobs/<digest>, checked against the
// digest and size. Each blob is also referenced by a small manifest, tagged
// `sha256-<hex>`, so that the registry's garbage collection (which deletes blobs no manifest
// references) keeps it and `oras pull <registry>/pallet-data:sha256-<hex>` fetches it as a file.
import { MEDIA_TYPES, RegistryClient, sha256, TITLE_ANNOTATION, type Descriptor, type ImageManifest } from './client';
import { RegistryError } from './errors';

/** The repository run data goes to unless configured (PALLET_DATA_REPOSITORY). */
export const DATA_REPOSITORY = 'pallet-data';
/** The artifactType of the manifests that keep data blobs. */
export const DATA_ARTIFACT_TYPE = 'application/vnd.pallet.data.v1';

const EMPTY_CONFIG = Buffer.from('{}');

/** The tag that keeps a data blob: `sha256-<hex>` (a tag cannot hold `:`). */
export function dataTag(digest: string): string {
  return digest.replace(':', '-');
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
   * keeps them; returns the blob's descriptor. Throws RegistryError (see isRetryable).
   */
  async put(data: Buffer, mediaType: string, title?: string): Promise<Descriptor> {
    const blob = await this.client.pushBlob(this.repository, data, mediaType);
    this.config ??= this.client.pushBlob(this.repository, EMPTY_CONFIG, MEDIA_TYPES.empty).catch((err: unknown) => {
      this.config = undefined;
      throw err;
    });
    const config = await this.config;
    // No creation time: the same data gives the same manifest, so storing it again changes nothing.
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      artifactType: DATA_ARTIFACT_TYPE,
      config: { ...config, data: EMPTY_CONFIG.toString('base64') },
      layers: [{ ...blob, annotations: { [TITLE_ANNOTATION]: title ?? blob.digest.replace('sha256:', '') } }],
    };
    await this.client.pushManifest(this.repository, dataTag(blob.digest), manifest);
    return blob;
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
