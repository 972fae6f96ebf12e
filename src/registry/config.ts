// Registry settings from PALLET_REGISTRY* variables (read by settings.ts), and a registry built
// from an environment (for tests and scripts; the program builds its one in services.ts).
import type { Credentials } from './auth';
import { RegistryClient } from './client';
import { credentialsFor, type Env } from './credentials';
import { PalletRegistry } from './store';

export interface RegistrySettings {
  /** `host[:port]` (PALLET_REGISTRY, default `localhost:5000`). */
  registry: string;
  /** PALLET_REGISTRY_PLAIN_HTTP=1|true, or an `http://` prefix on PALLET_REGISTRY. */
  plainHttp: boolean;
  credentials?: Credentials;
}

export const DEFAULT_REGISTRY = 'localhost:5000';

export function registryFromEnv(env: Env): RegistrySettings {
  // Tolerate `http://host:5000/` as people paste it; the scheme then chooses plain HTTP.
  const raw = (env.PALLET_REGISTRY || DEFAULT_REGISTRY).trim();
  const scheme = /^(https?):\/\//i.exec(raw)?.[1]?.toLowerCase();
  const registry = raw
    .replace(/^https?:\/\//i, '')
    .replace(/\/+$/, '')
    .toLowerCase();
  const plainHttp = /^(1|true|yes|on)$/i.test(env.PALLET_REGISTRY_PLAIN_HTTP ?? '') || scheme === 'http';
  const credentials = credentialsFor(registry, env);
  return { registry, plainHttp, ...(credentials ? { credentials } : {}) };
}

export function createRegistry(env: Env): PalletRegistry {
  return new PalletRegistry(new RegistryClient(registryFromEnv(env)));
}
