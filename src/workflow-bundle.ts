// The interpreter's workflow bundle, built once by `npm run build` (node lib/src/workflow-bundle.js)
// instead of by webpack at every worker start. Two bundles: plain, and with the tracing
// interceptors (src/telemetry/workflow-modules.ts) for workers with tracing on. Each is stamped
// (a `.digest` file beside it) with a digest of the compiled code it was made from; a worker uses a bundle only when the
// digest still matches, so a `tsc` without this step never runs stale workflow code.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface PrebuiltBundle {
  codePath: string;
  /** Whether the tracing interceptors are in it. */
  traced: boolean;
}

/** Where the bundles go: next to the compiled worker (lib/src/). Under ts-node (src/) there are none. */
export function bundlePath(traced: boolean, dir = __dirname): string {
  return path.join(dir, traced ? 'workflows.traced.bundle.js' : 'workflows.bundle.js');
}

/** A digest of every compiled module (bundles aside) and of the SDK's workflow package version. */
export function codeDigest(dir = __dirname): string {
  const hash = createHash('sha256');
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.js') && !entry.name.endsWith('.bundle.js')) hash.update(path.relative(dir, full)).update('\0').update(readFileSync(full));
    }
  };
  walk(dir);
  hash.update((JSON.parse(readFileSync(require.resolve('@temporalio/workflow/package.json'), 'utf8')) as { version: string }).version);
  return hash.digest('hex');
}

/**
 * The prebuilt bundle for this worker, or why there is none usable (missing, or made from other
 * code than this worker's: then the worker bundles at start, as without one).
 */
export function findPrebuiltBundle(traced: boolean, dir = __dirname): { bundle: PrebuiltBundle } | { reason: string } {
  const codePath = bundlePath(traced, dir);
  let stamped: string;
  try {
    stamped = readFileSync(`${codePath}.digest`, 'utf8').trim();
  } catch {
    return { reason: `no prebuilt bundle at ${codePath}` };
  }
  if (stamped !== codeDigest(dir)) return { reason: `${codePath} was built from other code (run npm run build)` };
  return { bundle: { codePath, traced } };
}

/** Builds both bundles into `dir` (lib/src/ when run as a script after tsc). */
export async function buildBundles(dir = __dirname): Promise<string[]> {
  // Loaded here only: the bundler (webpack) is for the build, not for every importer of this module.
  const { bundleWorkflowCode, DefaultLogger } = await import('@temporalio/worker');
  const { WORKFLOW_INTERCEPTOR_MODULES } = await import('./telemetry/workflow-modules');
  const digest = codeDigest(dir);
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const traced of [false, true]) {
    const { code } = await bundleWorkflowCode({
      workflowsPath: require.resolve('./workflows'),
      workflowInterceptorModules: traced ? WORKFLOW_INTERCEPTOR_MODULES : [],
      logger: new DefaultLogger('WARN'),
    });
    const codePath = bundlePath(traced, dir);
    await rm(`${codePath}.digest`, { force: true });
    await writeFile(codePath, code);
    // Written last: a bundle whose write broke off has no digest, and is not used.
    await writeFile(`${codePath}.digest`, `${digest}\n`);
    written.push(codePath);
  }
  return written;
}

if (require.main === module) {
  buildBundles().then(
    (paths) => console.log(`workflow bundles: ${paths.map((p) => path.relative(process.cwd(), p)).join(', ')}`),
    (err) => {
      console.error(`workflow bundle: ${err instanceof Error ? err.message : err}`);
      process.exit(1);
    },
  );
}
