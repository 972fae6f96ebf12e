// analyze_request: classify a request for smart-router's switch step. The result is the
// bare branch name (the switch compares the stored value itself with the branch names).
export const REQUEST_TYPES = ['code_generation', 'data_analysis', 'general'] as const;
export type RequestType = (typeof REQUEST_TYPES)[number];

/** Keyword weights: 2 = says what the request is, 1 = hints at it. */
const CODE: Record<string, number> = {
  build: 2,
  implement: 2,
  code: 2,
  program: 2,
  script: 2,
  function: 2,
  class: 2,
  api: 2,
  rest: 2,
  endpoint: 2,
  endpoints: 2,
  cli: 2,
  refactor: 2,
  debug: 2,
  compile: 2,
  library: 2,
  module: 2,
  microservice: 2,
  website: 2,
  webapp: 2,
  python: 1,
  javascript: 1,
  typescript: 1,
  create: 1,
  write: 1,
  develop: 1,
  make: 1,
  generate: 1,
  app: 1,
  application: 1,
  service: 1,
  server: 1,
  tool: 1,
  bot: 1,
  feature: 1,
  crud: 1,
};
const DATA: Record<string, number> = {
  analyze: 2,
  analyse: 2,
  analysis: 2,
  analytics: 2,
  csv: 2,
  dataset: 2,
  datasets: 2,
  statistics: 2,
  statistical: 2,
  visualize: 2,
  visualise: 2,
  visualization: 2,
  correlation: 2,
  regression: 2,
  forecast: 2,
  excel: 2,
  spreadsheet: 2,
  dataframe: 2,
  pandas: 2,
  data: 1,
  sales: 1,
  report: 1,
  trend: 1,
  trends: 1,
  chart: 1,
  charts: 1,
  plot: 1,
  metrics: 1,
  kpi: 1,
  insights: 1,
  dashboard: 1,
  average: 1,
  revenue: 1,
  survey: 1,
  summarize: 1,
  summarise: 1,
  aggregate: 1,
};

export function analyzeRequest(request: string): RequestType {
  const words = request.toLowerCase().match(/[a-z]+/g) ?? [];
  let code = 0;
  let data = 0;
  for (const w of words) {
    code += CODE[w] ?? 0;
    data += DATA[w] ?? 0;
  }
  if (code === 0 && data === 0) return 'general';
  if (code === data) return 'general'; // no clear signal: the default branch makes a plan
  return code > data ? 'code_generation' : 'data_analysis';
}
