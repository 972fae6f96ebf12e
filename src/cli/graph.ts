// `pallet graph FILE`: the Mermaid flowchart of a definition (src/dsl/graph.ts), on stdout.
// An invalid file gets the problems `pallet lint` prints (FILE:LINE:COL: message, on stderr)
// and exit code 1.
// The chart and the loader are imported when the verb runs, so that defining it loads no DSL.
import { Command, Option } from 'commander';

export type GraphFormat = 'text' | 'markdown';

/** Prints the chart of a file; false (after printing its problems) when the file is invalid. */
export async function graphFile(file: string, format: GraphFormat = 'text'): Promise<boolean> {
  const [{ markdownGraph, workflowGraph }, { DefinitionError, formatProblem, loadDefinitionFile }] = await Promise.all([
    import('../dsl/graph'),
    import('../dsl/loader'),
  ]);
  let definition;
  try {
    ({ definition } = await loadDefinitionFile(file));
  } catch (err) {
    if (!(err instanceof DefinitionError)) throw err;
    for (const problem of err.problems) console.error(formatProblem(problem));
    return false;
  }
  process.stdout.write(format === 'markdown' ? markdownGraph(definition) : workflowGraph(definition));
  return true;
}

export function registerGraphCommand(program: Command): void {
  program
    .command('graph')
    .description('print a Mermaid flowchart of a workflow definition (problems of an invalid file as FILE:LINE:COL: message, exit 1)')
    .argument('<file>', 'definition file')
    .addOption(
      new Option('-o, --output <format>', 'text: the Mermaid source; markdown: the same in a ```mermaid block').choices(['text', 'markdown']).default('text'),
    )
    .option('--markdown', 'same as --output markdown')
    .action(async (file: string, opts: { output: GraphFormat; markdown?: boolean }) => {
      process.exitCode = (await graphFile(file, opts.markdown ? 'markdown' : opts.output)) ? 0 : 1;
    });
}
