// Where registry credentials come from: PALLET_REGISTRY_* variables first (explicit, and
// what a deployed worker uses), else the Docker config that `docker login` / `oras login`
// write, so a developer who is logged in needs nothing more.
//
// Credential helpers (`credsStore`, `credHelpers`: the OS keychain, `docker-credential-*`)
// are NOT consulted: that would mean running external programs from the worker. A host
// configured only through a helper gets no credentials here; use the environment variables.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Credentials } from './auth';

export type Env = Record<string, string | undefined>;

/** Credentials from the environment: username + password, else a token. They apply to PALLET_REGISTRY, whatever its host. */
export function envCredentials(env: Env): Credentials | undefined {
  if (env.PALLET_REGISTRY_USERNAME && env.PALLET_REGISTRY_PASSWORD !== undefined) {
    return { username: env.PALLET_REGISTRY_USERNAME, password: env.PALLET_REGISTRY_PASSWORD };
  }
  if (env.PALLET_REGISTRY_TOKEN) return { token: env.PALLET_REGISTRY_TOKEN };
  return undefined;
}

export function dockerConfigPath(env: Env): string {
  const dir = env.DOCKER_CONFIG || path.join(env.HOME || os.homedir(), '.docker');
  return path.join(dir, 'config.json');
}

interface DockerAuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

/** `https://host:port/v1/` and `host:port` name the same registry in `auths`. */
function normaliseHost(key: string): string {
  return key
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/\/.*$/, '')
    .toLowerCase();
}

/** Credentials for `host` in a Docker `config.json`; a missing or unreadable file means none. */
export function dockerConfigCredentials(host: string, configPath: string): Credentials | undefined {
  let auths: Record<string, DockerAuthEntry> | undefined;
  try {
    auths = (JSON.parse(readFileSync(configPath, 'utf8')) as { auths?: Record<string, DockerAuthEntry> }).auths;
  } catch {
    return undefined;
  }
  const wanted = normaliseHost(host);
  const entry = Object.entries(auths ?? {}).find(([key]) => normaliseHost(key) === wanted)?.[1];
  if (!entry) return undefined;
  // An identity token is an OAuth2 refresh token; the client exchanges it at the token realm.
  if (entry.identitytoken) return { token: entry.identitytoken };
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (entry.username && entry.password !== undefined) return { username: entry.username, password: entry.password };
  return undefined;
}

/** Credentials for a registry host: environment first, then the Docker config. */
export function credentialsFor(host: string, env: Env): Credentials | undefined {
  return envCredentials(env) ?? dockerConfigCredentials(host, dockerConfigPath(env));
}
