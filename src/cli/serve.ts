// `pallet serve`: every stored workflow as an A2A agent skill and an MCP tool (issue 19).
// Only commander is imported here; the server is loaded when the verb runs.
import type { Command } from 'commander';

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description(
      'serve the stored workflows (registry, or PALLET_WORKFLOWS_DIR) to other agents: an A2A agent at / and an MCP server at /mcp; ' +
        'requests need a token of PALLET_SERVE_TOKENS (required off loopback); PALLET_SERVE_WORKFLOWS picks the workflows (docs/serve.md)',
    )
    .option('--host <host>', 'address to listen on (default PALLET_SERVE_HOST, or 127.0.0.1)')
    .option('--port <port>', 'port to listen on (default PALLET_SERVE_PORT, or 8010)')
    .action(async (opts: { host?: string; port?: string }) => {
      const [{ loadServeConfig }, { startServeServer }, { services }] = await Promise.all([
        import('../serve/config'),
        import('../serve/server'),
        import('../services'),
      ]);
      const config = loadServeConfig(process.env, opts);
      const shared = services();
      const server = await startServeServer({ services: shared, config });
      const workflows = await server.runs.catalog().then(
        (list) => `${list.length} workflow${list.length === 1 ? '' : 's'}: ${list.map((w) => w.id).join(', ') || 'none'}`,
        (err: Error) => `the workflows cannot be listed yet (${err.message})`,
      );
      console.log(`pallet serve: A2A agent at ${server.url}/ (card ${server.url}/.well-known/agent-card.json), MCP at ${server.url}/mcp; ${workflows}`);
      console.log(
        config.tokens.length ? `  requests need one of the ${config.tokens.length} token(s) of PALLET_SERVE_TOKENS` : '  no token needed: loopback only',
      );
      // Runs are in Temporal: stopping loses nothing, another instance answers for them.
      await new Promise<void>((resolve) => {
        for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
      });
      await server.close();
      await shared.close();
    });
}
