// The examples' MCP server (`pallet agents` starts it beside the agents): tools on the official
// TypeScript SDK (McpServer) over Streamable HTTP at `POST /mcp`, stateless (a fresh server per
// request, no sessions), so any number of workers may call it. Configure a worker with
// PALLET_MCP_SERVERS=examples=http://localhost:8006/mcp and a step calls `examples.word_count`.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

export const MCP_PATH = '/mcp';

export interface WordCount {
  words: number;
  characters: number;
  lines: number;
  sentences: number;
  /** The five most frequent words (lowercase, at least four letters), most frequent first. */
  top_words: string[];
}

/** Counts in a text: words (runs of letters, digits and apostrophes), characters, lines and sentences. */
export function wordCount(text: string): WordCount {
  const words = text.match(/[\p{L}\p{N}']+/gu) ?? [];
  const counts = new Map<string, number>();
  for (const w of words) if (w.length >= 4) counts.set(w.toLowerCase(), (counts.get(w.toLowerCase()) ?? 0) + 1);
  return {
    words: words.length,
    characters: [...text].length,
    lines: text ? text.split(/\r\n|\n|\r/).length : 0,
    sentences: text.split(/[.!?]+(?:\s|$)/).filter((s) => /[\p{L}\p{N}]/u.test(s)).length,
    top_words: [...counts]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, 5)
      .map(([w]) => w),
  };
}

/** The tools: word_count, with structured output (what a step stores). */
export function exampleTools(): McpServer {
  const server = new McpServer({ name: 'pallet-examples', version: '1.0.0' });
  server.registerTool(
    'word_count',
    {
      description: 'Counts the words, characters, lines and sentences of a text, and names its most frequent words',
      inputSchema: { text: z.string().describe('The text to count') },
      outputSchema: {
        words: z.number().int(),
        characters: z.number().int(),
        lines: z.number().int(),
        sentences: z.number().int(),
        top_words: z.array(z.string()),
      },
    },
    async ({ text }) => {
      const counts = wordCount(text);
      return { content: [{ type: 'text', text: JSON.stringify(counts) }], structuredContent: { ...counts } };
    },
  );
  return server;
}

export interface RunningMcpServer {
  /** The name workers give it in PALLET_MCP_SERVERS (its tools are `examples.<tool>`). */
  name: string;
  /** The endpoint: `{base}/mcp`. */
  url: string;
  tools: string[];
  close(): Promise<void>;
}

export async function startMcpServer(opts: { host?: string; port: number; publicUrl?: string; log?: (line: string) => void }): Promise<RunningMcpServer> {
  const log = opts.log ?? (() => {});
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== MCP_PATH)
      return void res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `no route ${path}; try POST ${MCP_PATH}` }));
    if (req.method !== 'POST') {
      // Stateless: no session to stream to (GET) or end (DELETE).
      return void res
        .writeHead(405, { allow: 'POST', 'content-type': 'application/json' })
        .end(JSON.stringify({ error: 'this MCP server is stateless: POST only' }));
    }
    const tools = exampleTools();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => void transport.close().then(() => tools.close()));
    tools
      .connect(transport)
      .then(() => transport.handleRequest(req, res))
      .catch((err: unknown) => {
        log(`examples MCP server: ${err instanceof Error ? err.message : String(err)}`);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'internal error' }));
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE' ? new Error(`examples MCP server: port ${opts.port} is already in use`, { cause: err }) : err);
    });
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.address === '0.0.0.0' || address.address === '::' ? 'localhost' : address.address;
  const base = opts.publicUrl ?? `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  return {
    name: 'examples',
    url: `${base}${MCP_PATH}`,
    tools: ['word_count'],
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
