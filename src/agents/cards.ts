// The skills listed on the example agents' cards. plan/build/test are Pallet's own cards
// (agent-cards/*.json, checked by a test) so Pallet's workflows and registry entries work
// unchanged; analysis and router are this project's, for parallel-analysis and smart-router.
import type { SkillCard } from './types';

const CODE_INPUT = {
  type: 'object',
  properties: { code: { type: 'string', description: 'Python source code to analyse' } },
  required: ['code'],
};

const FINDINGS = {
  type: 'array',
  description: 'Findings, ordered by line',
  items: {
    type: 'object',
    properties: {
      rule: { type: 'string', description: 'Rule id, e.g. eval-exec' },
      severity: { type: 'string', enum: ['high', 'medium', 'low'], description: 'Severity' },
      line: { type: 'integer', description: 'Line number (1-based)' },
      message: { type: 'string', description: 'What is wrong and how to fix it' },
      code: { type: 'string', description: 'The offending line (secrets masked)' },
    },
  },
};

export const PLAN_SKILLS: SkillCard[] = [
  {
    id: 'create_plan',
    description: 'Creates a structured implementation plan from requirements',
    input_schema: {
      type: 'object',
      properties: { requirements: { type: 'string', description: 'User requirements or feature description' } },
      required: ['requirements'],
    },
    output_schema: {
      type: 'object',
      properties: {
        title: { type: 'string', description: 'Title of the plan' },
        steps: {
          type: 'array',
          description: 'Implementation steps',
          items: {
            type: 'object',
            properties: {
              name: { type: 'string', description: 'Step name' },
              description: { type: 'string', description: 'Step description' },
              time: { type: 'string', description: 'Estimated time' },
            },
          },
        },
        dependencies: { type: 'array', description: 'External dependencies' },
        estimated_total_time: { type: 'string', description: 'Total estimated time' },
      },
    },
  },
];

export const BUILD_SKILLS: SkillCard[] = [
  {
    id: 'generate_code',
    description: 'Generates Python code based on an implementation plan',
    input_schema: {
      type: 'object',
      properties: { plan: { type: 'object', description: 'Implementation plan from Plan Agent' } },
      required: ['plan'],
    },
    output_schema: {
      type: 'object',
      properties: {
        code: { type: 'string', description: 'Generated Python code' },
        explanation: { type: 'string', description: 'Explanation of the implementation' },
        language: { type: 'string', description: 'Programming language (python)' },
        functions: { type: 'array', description: 'Functions/classes defined in the code' },
      },
    },
  },
];

export const TEST_SKILLS: SkillCard[] = [
  {
    id: 'review_code',
    description: 'Reviews code for quality, bugs, and best practices',
    input_schema: {
      type: 'object',
      properties: {
        code: { type: 'string', description: 'Code to review' },
        language: { type: 'string', description: 'Programming language (default: python)' },
      },
      required: ['code'],
    },
    output_schema: {
      type: 'object',
      properties: {
        quality_score: { type: 'number', description: 'Code quality score (1-10)' },
        issues: { type: 'array', description: 'Issues found in the code' },
        suggestions: { type: 'array', description: 'Suggestions for improvement' },
        approved: { type: 'boolean', description: 'Is code production-ready' },
        summary: { type: 'string', description: 'Summary of the review' },
      },
    },
  },
];

export const ANALYSIS_SKILLS: SkillCard[] = [
  {
    id: 'security_scan',
    description: 'Scans Python code for security problems (code execution, shell injection, unsafe deserialisation, hard-coded secrets, SQL injection, disabled TLS checks, weak hashes, temp files)',
    input_schema: CODE_INPUT,
    output_schema: {
      type: 'object',
      properties: {
        findings: FINDINGS,
        risk_level: { type: 'string', enum: ['none', 'low', 'medium', 'high'], description: 'Highest severity found' },
        score: { type: 'number', description: 'Security score (1-10)' },
        summary: { type: 'string', description: 'Summary of the scan' },
      },
    },
  },
  {
    id: 'performance_check',
    description: 'Checks Python code for performance anti-patterns (nested loops, string concatenation and I/O in loops, range(len(...)), append loops)',
    input_schema: CODE_INPUT,
    output_schema: {
      type: 'object',
      properties: {
        findings: FINDINGS,
        score: { type: 'number', description: 'Performance score (1-10)' },
        summary: { type: 'string', description: 'Summary of the check' },
      },
    },
  },
  {
    id: 'aggregate_results',
    description: 'Combines the quality review, security scan and performance check into one verdict',
    input_schema: {
      type: 'object',
      properties: {
        quality: { type: 'object', description: 'Result of review_code' },
        security: { type: 'object', description: 'Result of security_scan' },
        performance: { type: 'object', description: 'Result of performance_check' },
      },
      required: ['quality', 'security', 'performance'],
    },
    output_schema: {
      type: 'object',
      properties: {
        overall_score: { type: 'number', description: 'Weighted score (1-10): quality 40%, security 40%, performance 20%' },
        approved: { type: 'boolean', description: 'Approved by quality, no high security risk and overall score at least 7' },
        summary: { type: 'string', description: 'Summary of the analysis' },
        highlights: { type: 'array', items: { type: 'string' }, description: 'Most important findings, most severe first' },
        scores: { type: 'object', description: 'The quality, security and performance scores used' },
      },
    },
  },
];

export const ROUTER_SKILLS: SkillCard[] = [
  {
    id: 'analyze_request',
    description: 'Classifies a request for routing: code_generation, data_analysis or general',
    input_schema: {
      type: 'object',
      properties: { request: { type: 'string', description: 'The user request' } },
      required: ['request'],
    },
    output_schema: {
      type: 'string',
      enum: ['code_generation', 'data_analysis', 'general'],
      description: 'Request type, returned as a bare string (the name of the branch to take)',
    },
  },
];
