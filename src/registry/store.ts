// Pallet's layout on top of the registry client: workflows as `workflows/<name>:<tag>` with
// one YAML file, agent cards as `agents/<agent>:v1` with `<agent>_agent_card.json`. Pushes
// are byte-compatible with Pallet's `oras push`, so either side can read the other's.
import { RegistryClient, RegistryError, TITLE_ANNOTATION, type Descriptor, type ImageManifest } from './client';
import { agentShortName, DEFAULT_PALLET_TAG, formatReference, workflowReference, type Reference } from './reference';

export const YAML_MEDIA_TYPE = 'application/yaml';
export const JSON_MEDIA_TYPE = 'application/json';

export interface PulledWorkflow {
  repository: string;
  tag?: string;
  /** Digest of the manifest: pull `repository@digest` to get exactly this again. */
  digest: string;
  /** Digest of the YAML file itself. */
  layerDigest: string;
  fileName: string;
  text: string;
}

export interface ListedWorkflow {
  repository: string;
  tags: string[];
  /** The tag read: `v1` if present, else the first tag. */
  tag: string;
  digest: string;
  fileName: string;
  /** The YAML text, unparsed; empty when `problem` is set. */
  text: string;
  /** Why this repository could not be read (it is listed anyway, so it is not silently lost). */
  problem?: string;
}

export interface ListedAgentCard {
  repository: string;
  tag: string;
  digest: string;
  /** The parsed JSON, unchecked: validating cards is the caller's business. */
  card: unknown;
}

const isYamlLayer = (l: Descriptor) => /^(application|text)\/(x-)?yaml$/.test(l.mediaType) || /\.ya?ml$/i.test(l.annotations?.[TITLE_ANNOTATION] ?? '');
const isJsonLayer = (l: Descriptor) => l.mediaType === JSON_MEDIA_TYPE || /\.json$/i.test(l.annotations?.[TITLE_ANNOTATION] ?? '');

/** Pallet's discovery rule: tag `v1` if present, else the first tag listed. */
export function preferredTag(tags: string[]): string | undefined {
  return tags.includes(DEFAULT_PALLET_TAG) ? DEFAULT_PALLET_TAG : tags[0];
}

/** Runs `fn` over `items` with at most `limit` at a time, keeping order. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export class PalletRegistry {
  constructor(readonly client: RegistryClient) {}

  get registry(): string {
    return this.client.registry;
  }

  /** Pushes one definition file as `workflows/<name>:<tag>` (what `oras push … file.yaml:application/yaml` does). */
  async pushWorkflow(name: string, fileName: string, yamlText: string, tag = DEFAULT_PALLET_TAG): Promise<{ reference: string; digest: string }> {
    const ref = this.client.reference(`workflows/${name}:${tag}`);
    const { digest } = await this.client.pushArtifact(ref.repository, tag, [{ name: fileName, mediaType: YAML_MEDIA_TYPE, data: yamlText }]);
    return { reference: formatReference(ref), digest };
  }

  /** Pulls a definition by workflow id, name[:tag|@digest] or full reference (see `workflowReference`). */
  async pullWorkflow(ref: string | Reference): Promise<PulledWorkflow> {
    const r = this.client.reference(typeof ref === 'string' ? workflowReference(ref, this.registry) : ref);
    const { digest, manifest } = await this.client.getManifest(r);
    const layer = this.layer(r, manifest, isYamlLayer, 'YAML layer (application/yaml or a .yaml/.yml title)');
    const data = await this.client.getBlob(r.repository, layer);
    return {
      repository: r.repository,
      ...(r.tag ? { tag: r.tag } : {}),
      digest,
      layerDigest: layer.digest,
      fileName: layer.annotations?.[TITLE_ANNOTATION] ?? `${r.repository.split('/').pop()}.yaml`,
      text: data.toString('utf8'),
    };
  }

  /** Every `workflows/*` repository, read at its preferred tag. Unreadable ones carry a `problem`. */
  async listWorkflows(): Promise<ListedWorkflow[]> {
    const repos = (await this.client.catalog()).filter((r) => r.startsWith('workflows/')).sort();
    return mapLimit(repos, 8, async (repository) => {
      let tags: string[] = [];
      let tag = '';
      try {
        tags = await this.client.tags(repository);
        tag = preferredTag(tags) ?? '';
        if (!tag) throw new Error('it has no tags');
        const pulled = await this.pullWorkflow({ registry: this.registry, repository, tag });
        return { repository, tags, tag, digest: pulled.digest, fileName: pulled.fileName, text: pulled.text };
      } catch (err) {
        return { repository, tags, tag, digest: '', fileName: '', text: '', problem: (err as Error).message };
      }
    });
  }

  /** Pushes a card as `agents/<agent>:<tag>` with file `<agent>_agent_card.json` (`plan-agent` → `agents/plan`). */
  async pushAgentCard(agentName: string, cardJsonText: string, tag = DEFAULT_PALLET_TAG): Promise<{ reference: string; digest: string }> {
    try {
      JSON.parse(cardJsonText);
    } catch (err) {
      throw new Error(`agent card for ${agentName} is not valid JSON: ${(err as Error).message}`);
    }
    const agent = agentShortName(agentName);
    const ref = this.client.reference(`agents/${agent}:${tag}`);
    const { digest } = await this.client.pushArtifact(ref.repository, tag, [
      { name: `${agent}_agent_card.json`, mediaType: JSON_MEDIA_TYPE, data: cardJsonText },
    ]);
    return { reference: formatReference(ref), digest };
  }

  /**
   * Pallet's discovery: every `agents/*` repository of the catalog, its card at tag `v1` (else
   * the first tag). Cards that cannot be read are reported in `problems`, not thrown, so one bad
   * card does not hide the others; a catalog that cannot be listed does throw.
   */
  async listAgentCards(): Promise<{ cards: ListedAgentCard[]; problems: string[] }> {
    const repos = (await this.client.catalog()).filter((r) => r.startsWith('agents/')).sort();
    const results = await mapLimit(repos, 8, async (repository): Promise<ListedAgentCard | string> => {
      let where = repository;
      try {
        const tag = preferredTag(await this.client.tags(repository));
        if (!tag) throw new Error('it has no tags');
        where = `${repository}:${tag}`;
        const r = this.client.reference({ registry: this.registry, repository, tag });
        const { digest, manifest } = await this.client.getManifest(r);
        const layer = this.layer(r, manifest, isJsonLayer, 'JSON layer (application/json or a .json title)');
        const text = (await this.client.getBlob(repository, layer)).toString('utf8');
        let card: unknown;
        try {
          card = JSON.parse(text);
        } catch (err) {
          throw new Error(`its agent card is not valid JSON: ${(err as Error).message}`);
        }
        return { repository, tag, digest, card };
      } catch (err) {
        const message = (err as Error).message;
        return err instanceof RegistryError ? message : `${where}: ${message}`;
      }
    });
    return {
      cards: results.filter((c): c is ListedAgentCard => typeof c !== 'string'),
      problems: results.filter((c): c is string => typeof c === 'string'),
    };
  }

  private layer(r: Reference, manifest: ImageManifest, match: (l: Descriptor) => boolean, what: string): Descriptor {
    const layer = manifest.layers.find(match);
    if (layer) return layer;
    const found = manifest.layers.map((l) => l.annotations?.[TITLE_ANNOTATION] ?? l.mediaType).join(', ') || 'no layers';
    throw new RegistryError(
      `${formatReference(r, false)} on registry ${this.registry} has no ${what} (it has ${found}); was it pushed as a Pallet artifact?`,
      'invalid_manifest',
      formatReference(r),
    );
  }
}
