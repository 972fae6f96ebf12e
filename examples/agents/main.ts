// The example agents: every skill Pallet's example workflows call, as five HTTP agents
// (`pallet agents`). Each agent is its card file in agent-cards/ (read at start-up: the one
// copy of the cards) plus a handler per skill on the card. Deterministic by default; with
// PALLET_LLM_URL and PALLET_LLM_MODEL set, create_plan, generate_code and review_code ask
// that model instead. Each agent speaks Pallet's protocol and A2A on its port (server.ts, a2a.ts);
// the examples' MCP server (examples/mcp/) starts beside them, on the port after theirs.
import path from 'node:path';
import { startMcpServer, type RunningMcpServer } from '../mcp/server';
import { defaultCardsDir, portOf, readCardFile } from './cards';
import { llmConfigFromEnv } from './llm';
import { startAgentServer, type RunningAgent } from './server';
import { aggregateResults } from './skills/aggregate';
import { generateCode } from './skills/build';
import { analyzeData } from './skills/data';
import { codeWithLlm, planWithLlm, reviewWithLlm } from './skills/llm-skills';
import { performanceCheck } from './skills/performance';
import { createPlan } from './skills/plan';
import { compileReport, summarizeText } from './skills/report';
import { reviewCode } from './skills/review';
import { analyzeRequest } from './skills/router';
import { securityScan } from './skills/security';
import { SkillError, type AgentCard, type AgentSpec, type SkillHandler, type SkillSpec } from './types';

export type { AgentSpec } from './types';
export { startAgentServer } from './server';

const text = (v: unknown) => (typeof v === 'string' ? v : '');
const optionalText = (v: unknown) => (typeof v === 'string' ? v : undefined);

/** The example agents in port order: the card file each one serves, and its skills' handlers. */
export const EXAMPLE_HANDLERS: { card: string; handlers: Record<string, SkillHandler> }[] = [
  {
    card: 'plan_agent_card.json',
    handlers: {
      create_plan: (p, ctx) => {
        const requirements = text(p.requirements);
        if (!requirements.trim()) throw new SkillError('requirements is empty: describe what to build');
        const llm = llmConfigFromEnv(ctx.env);
        return llm ? planWithLlm(llm, requirements, ctx.signal) : createPlan(requirements);
      },
    },
  },
  {
    card: 'build_agent_card.json',
    handlers: {
      generate_code: (p, ctx) => {
        const plan = p.plan as Record<string, unknown>;
        const llm = llmConfigFromEnv(ctx.env);
        return llm ? codeWithLlm(llm, plan, ctx.signal) : generateCode(plan);
      },
    },
  },
  {
    card: 'test_agent_card.json',
    handlers: {
      review_code: (p, ctx) => {
        const language = typeof p.language === 'string' ? p.language : undefined;
        const llm = llmConfigFromEnv(ctx.env);
        return llm ? reviewWithLlm(llm, text(p.code), language, ctx.env, ctx.signal) : reviewCode(text(p.code), language, ctx.env);
      },
    },
  },
  {
    card: 'analysis_agent_card.json',
    handlers: {
      security_scan: (p) => securityScan(text(p.code)),
      performance_check: (p) => performanceCheck(text(p.code)),
      aggregate_results: (p) => aggregateResults({ quality: p.quality, security: p.security, performance: p.performance }),
      analyze_data: (p) => analyzeData({ requirements: p.requirements, data: p.data }),
      compile_report: (p, ctx) => compileReport(text(p.text), optionalText(p.title), typeof p.seconds === 'number' ? p.seconds : undefined, ctx),
      summarize_text: (p, ctx) => summarizeText(text(p.text), optionalText(p.language), ctx.answer),
    },
  },
  {
    card: 'router_agent_card.json',
    handlers: { analyze_request: (p) => analyzeRequest(text(p.request)) },
  },
];

/**
 * The example agents, built from their card files: each card's skills with their handlers,
 * and the port of the card's url as the agent's default port. Throws when a card lists a
 * skill without a handler, or a handler has no skill on its card.
 */
export function loadExampleAgents(cardsDir = defaultCardsDir()): AgentSpec[] {
  return EXAMPLE_HANDLERS.map(({ card: file, handlers }) => {
    const where = path.join(cardsDir, file);
    const card = readCardFile(where);
    return { name: card.name, defaultPort: portOf(card.url), skills: withHandlers(card, handlers, where) };
  });
}

function withHandlers(card: AgentCard, handlers: Record<string, SkillHandler>, where: string): SkillSpec[] {
  const extra = Object.keys(handlers).filter((id) => !card.skills.some((s) => s.id === id));
  if (extra.length) throw new Error(`${card.name} has handlers for ${extra.join(', ')}, which its card ${where} does not list`);
  return card.skills.map((skill) => {
    const run = handlers[skill.id];
    if (!run) throw new Error(`${where} lists skill "${skill.id}", which ${card.name} has no handler for`);
    return { ...skill, run };
  });
}

export interface StartExampleAgentsOptions {
  /** Interface to bind; default 127.0.0.1 (use 0.0.0.0 to serve other hosts or containers). */
  host?: string;
  /** Port of plan-agent; the others keep their offsets from it (+1..+4). 0 gives every agent a free port. Default: the ports on the cards (8001..8005). */
  basePort?: number;
  /** Folder of the card files; default the checkout's agent-cards/. */
  cardsDir?: string;
  /** Agent names to start ("plan-agent" or "plan", "mcp" for the MCP server); default all. Ports stay those of the full set. */
  only?: string[];
  /** Environment for LLM settings and PALLET_PYTHON; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Host name to put in card URLs instead of the bound address (e.g. a container name). */
  publicHost?: string;
  /** Called with one line per call. */
  log?: (line: string) => void;
}

export interface ExampleAgents {
  agents: { name: string; url: string; skills: string[] }[];
  /** The model answering create_plan/generate_code/review_code, or null in deterministic mode. */
  llm: { url: string; model: string } | null;
  /** The examples' MCP server (examples/mcp/), on the port after the agents'; null when `only` leaves it out. */
  mcp: { name: string; url: string; tools: string[] } | null;
  close(): Promise<void>;
}

/** The name that selects the MCP server in `only`. */
const MCP_NAMES = ['mcp', 'examples-mcp'];

export async function startExampleAgents(opts: StartExampleAgentsOptions = {}): Promise<ExampleAgents> {
  const env = opts.env ?? process.env;
  const llm = llmConfigFromEnv(env); // fail at start-up, not on the first call, if half-configured
  const all = loadExampleAgents(opts.cardsDir);
  const firstPort = all[0].defaultPort;
  const basePort = opts.basePort ?? firstPort;
  const wantsMcp = !opts.only?.length || opts.only.some((n) => MCP_NAMES.includes(n.trim()));
  const onlyAgents = opts.only?.filter((n) => !MCP_NAMES.includes(n.trim()));
  const selected = opts.only?.length && !onlyAgents?.length ? [] : selectAgents(all, onlyAgents);

  const running: RunningAgent[] = [];
  let mcp: RunningMcpServer | undefined;
  const closeAll = () => Promise.all([...running.map((a) => a.close()), mcp?.close()]).then(() => undefined);
  const publicUrlOf = (port: number) => (opts.publicHost && port ? `http://${opts.publicHost}:${port}` : undefined);
  try {
    for (const agent of selected) {
      const port = basePort === 0 ? 0 : basePort + (agent.defaultPort - firstPort);
      running.push(await startAgentServer(agent, { host: opts.host, port, env, log: opts.log, publicUrl: publicUrlOf(port) }));
    }
    if (wantsMcp) {
      // The port after the last agent's (8006 by default).
      const port = basePort === 0 ? 0 : basePort + (Math.max(...all.map((a) => a.defaultPort)) - firstPort) + 1;
      mcp = await startMcpServer({ host: opts.host, port, publicUrl: publicUrlOf(port), log: opts.log });
      opts.log?.(`MCP server ${mcp.name}: ${mcp.url} (${mcp.tools.join(', ')}); PALLET_MCP_SERVERS=${mcp.name}=${mcp.url}`);
    }
  } catch (err) {
    await closeAll();
    throw err;
  }
  return {
    agents: running.map((a) => ({ name: a.name, url: a.url, skills: a.card.skills.map((s) => s.id) })),
    llm: llm ? { url: llm.url, model: llm.model } : null,
    mcp: mcp ? { name: mcp.name, url: mcp.url, tools: mcp.tools } : null,
    close: closeAll,
  };
}

function selectAgents(all: AgentSpec[], only: string[] | undefined): AgentSpec[] {
  if (!only?.length) return all;
  const wanted = only.map((n) => n.trim()).filter(Boolean);
  const unknown = wanted.filter((n) => !all.some((a) => a.name === n || a.name === `${n}-agent`));
  if (unknown.length) throw new Error(`unknown agent(s) ${unknown.join(', ')}; known: ${all.map((a) => a.name).join(', ')}`);
  return all.filter((a) => wanted.some((n) => a.name === n || a.name === `${n}-agent`));
}
