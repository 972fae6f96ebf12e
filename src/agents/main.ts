// The example agents: every skill Pallet's three workflows call, as five HTTP agents
// (`pallet agents`). Deterministic by default; with PALLET_LLM_URL and PALLET_LLM_MODEL set,
// create_plan, generate_code and review_code ask that model instead.
import { ANALYSIS_SKILLS, BUILD_SKILLS, PLAN_SKILLS, ROUTER_SKILLS, TEST_SKILLS } from './cards';
import { llmConfigFromEnv } from './llm';
import { startAgentServer, type RunningAgent } from './server';
import { aggregateResults } from './skills/aggregate';
import { generateCode } from './skills/build';
import { codeWithLlm, planWithLlm, reviewWithLlm } from './skills/llm-skills';
import { performanceCheck } from './skills/performance';
import { createPlan } from './skills/plan';
import { reviewCode } from './skills/review';
import { analyzeRequest } from './skills/router';
import { securityScan } from './skills/security';
import { SkillError, type AgentSpec, type SkillCard, type SkillHandler, type SkillSpec } from './types';

export type { AgentSpec } from './types';
export { startAgentServer } from './server';

/** The first agent's port; the others follow in EXAMPLE_AGENTS order (8001..8005). */
export const DEFAULT_BASE_PORT = 8001;

function skills(cards: SkillCard[], handlers: Record<string, SkillHandler>): SkillSpec[] {
  return cards.map((card) => {
    const run = handlers[card.id];
    if (!run) throw new Error(`no handler for skill ${card.id}`);
    return { ...card, run };
  });
}

const text = (v: unknown) => (typeof v === 'string' ? v : '');

export const EXAMPLE_AGENTS: AgentSpec[] = [
  {
    name: 'plan-agent',
    defaultPort: 8001,
    skills: skills(PLAN_SKILLS, {
      create_plan: (p, ctx) => {
        const requirements = text(p.requirements);
        if (!requirements.trim()) throw new SkillError('requirements is empty: describe what to build');
        const llm = llmConfigFromEnv(ctx.env);
        return llm ? planWithLlm(llm, requirements, ctx.signal) : createPlan(requirements);
      },
    }),
  },
  {
    name: 'build-agent',
    defaultPort: 8002,
    skills: skills(BUILD_SKILLS, {
      generate_code: (p, ctx) => {
        const plan = p.plan as Record<string, unknown>;
        const llm = llmConfigFromEnv(ctx.env);
        return llm ? codeWithLlm(llm, plan, ctx.signal) : generateCode(plan);
      },
    }),
  },
  {
    name: 'test-agent',
    defaultPort: 8003,
    skills: skills(TEST_SKILLS, {
      review_code: (p, ctx) => {
        const language = typeof p.language === 'string' ? p.language : undefined;
        const llm = llmConfigFromEnv(ctx.env);
        return llm ? reviewWithLlm(llm, text(p.code), language, ctx.env, ctx.signal) : reviewCode(text(p.code), language, ctx.env);
      },
    }),
  },
  {
    name: 'analysis-agent',
    defaultPort: 8004,
    skills: skills(ANALYSIS_SKILLS, {
      security_scan: (p) => securityScan(text(p.code)),
      performance_check: (p) => performanceCheck(text(p.code)),
      aggregate_results: (p) => aggregateResults({ quality: p.quality, security: p.security, performance: p.performance }),
    }),
  },
  {
    name: 'router-agent',
    defaultPort: 8005,
    skills: skills(ROUTER_SKILLS, { analyze_request: (p) => analyzeRequest(text(p.request)) }),
  },
];

export interface StartExampleAgentsOptions {
  /** Interface to bind; default 127.0.0.1 (use 0.0.0.0 to serve other hosts or containers). */
  host?: string;
  /** Port of plan-agent; the others follow (+1..+4). 0 gives every agent a free port. Default 8001. */
  basePort?: number;
  /** Agent names to start ("plan-agent" or "plan"); default all. Ports stay those of the full set. */
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
  close(): Promise<void>;
}

export async function startExampleAgents(opts: StartExampleAgentsOptions = {}): Promise<ExampleAgents> {
  const env = opts.env ?? process.env;
  const llm = llmConfigFromEnv(env); // fail at start-up, not on the first call, if half-configured
  const basePort = opts.basePort ?? DEFAULT_BASE_PORT;
  const selected = selectAgents(opts.only);

  const running: RunningAgent[] = [];
  const closeAll = () => Promise.all(running.map((a) => a.close())).then(() => undefined);
  try {
    for (const agent of selected) {
      const port = basePort === 0 ? 0 : basePort + (agent.defaultPort - DEFAULT_BASE_PORT);
      const publicUrl = opts.publicHost && port ? `http://${opts.publicHost}:${port}` : undefined;
      running.push(await startAgentServer(agent, { host: opts.host, port, env, log: opts.log, publicUrl }));
    }
  } catch (err) {
    await closeAll();
    throw err;
  }
  return {
    agents: running.map((a) => ({ name: a.name, url: a.url, skills: a.card.skills.map((s) => s.id) })),
    llm: llm ? { url: llm.url, model: llm.model } : null,
    close: closeAll,
  };
}

function selectAgents(only: string[] | undefined): AgentSpec[] {
  if (!only?.length) return EXAMPLE_AGENTS;
  const wanted = only.map((n) => n.trim()).filter(Boolean);
  const unknown = wanted.filter((n) => !EXAMPLE_AGENTS.some((a) => a.name === n || a.name === `${n}-agent`));
  if (unknown.length) throw new Error(`unknown agent(s) ${unknown.join(', ')}; known: ${EXAMPLE_AGENTS.map((a) => a.name).join(', ')}`);
  return EXAMPLE_AGENTS.filter((a) => wanted.some((n) => a.name === n || a.name === `${n}-agent`));
}
