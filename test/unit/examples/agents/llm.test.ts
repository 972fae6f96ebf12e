// LLM mode against a fake OpenAI-compatible chat-completions server on loopback.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { llmConfigFromEnv } from '../../../../examples/agents/llm';
import { startExampleAgents, type ExampleAgents } from '../../../../examples/agents/main';
import { call, callFails, rpc } from './rpc';

interface ChatRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: { model: string; messages: { role: string; content: string }[]; response_format?: { type: string }; temperature?: number };
}

/** Answers each request with `reply(request)`: a message content string, or [status, raw body]. */
type Reply = (req: ChatRequest) => string | [number, string] | Promise<string | [number, string]>;

const GOOD_PLAN = {
  title: 'Todo REST API',
  steps: [
    { name: 'Define models', description: 'Pydantic models for todos.', time: '1 hour' },
    { name: 'Add endpoints', description: 'CRUD endpoints with FastAPI.', time: '2 hours' },
  ],
  dependencies: ['fastapi'],
  estimated_total_time: '3 hours',
};

describe('example agents: LLM mode', () => {
  let fake: http.Server;
  let fakeUrl: string;
  const requests: ChatRequest[] = [];
  let reply: Reply = () => '{}';
  let running: ExampleAgents;
  const url: Record<string, string> = {};

  before(async () => {
    fake = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c));
      req.on('end', async () => {
        const request: ChatRequest = { path: req.url ?? '', headers: req.headers, body: JSON.parse(raw) };
        requests.push(request);
        const answer = await reply(request);
        const [status, body] = Array.isArray(answer)
          ? answer
          : [
              200,
              JSON.stringify({
                id: 'chatcmpl-1',
                object: 'chat.completion',
                choices: [{ index: 0, message: { role: 'assistant', content: answer }, finish_reason: 'stop' }],
              }),
            ];
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(body);
      });
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    fakeUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}/v1`;
    running = await startExampleAgents({
      basePort: 0,
      env: { PALLET_LLM_URL: `${fakeUrl}/`, PALLET_LLM_MODEL: 'fake-model', PALLET_LLM_API_KEY: 'secret-key', PALLET_LLM_TIMEOUT_MS: '2000' },
    });
    for (const a of running.agents) url[a.name] = a.url;
  });
  after(async () => {
    await running.close();
    fake.closeAllConnections();
    await new Promise((resolve) => fake.close(resolve));
  });
  beforeEach(() => (requests.length = 0));

  it('reports the model it uses', () => {
    assert.deepEqual(running.llm, { url: fakeUrl, model: 'fake-model' });
  });

  it('create_plan: sends the requirements in JSON mode and returns a valid answer', async () => {
    reply = () => JSON.stringify(GOOD_PLAN);
    const plan = await call(url['plan-agent'], 'create_plan', { requirements: 'A REST API for todo items' });
    assert.deepEqual(plan, GOOD_PLAN);

    assert.equal(requests.length, 1);
    const [req] = requests;
    assert.equal(req.path, '/v1/chat/completions');
    assert.equal(req.headers.authorization, 'Bearer secret-key');
    assert.equal(req.body.model, 'fake-model');
    assert.deepEqual(req.body.response_format, { type: 'json_object' });
    assert.equal(req.body.temperature, 0);
    assert.deepEqual(
      req.body.messages.map((m) => m.role),
      ['system', 'user'],
    );
    assert.equal(req.body.messages[1].content, 'A REST API for todo items');
    assert.match(req.body.messages[0].content, /JSON Schema/);
    assert.match(req.body.messages[0].content, /"estimated_total_time"/);
  });

  it('create_plan: garbage from the model is an error reply, not a canned plan', async () => {
    reply = () => 'Sure! Here is your plan: step one, think; step two, code.';
    const message = await callFails(url['plan-agent'], 'create_plan', { requirements: 'A REST API' });
    assert.match(message, /^create_plan: model fake-model at .* did not answer with a JSON object: Sure! Here is your plan/);
  });

  it('create_plan: JSON of the wrong shape is an error naming what is wrong', async () => {
    reply = () => JSON.stringify({ title: 'x', steps: [] });
    const message = await callFails(url['plan-agent'], 'create_plan', { requirements: 'A REST API' });
    assert.match(message, /does not match the expected shape: .*must have required property 'dependencies'/);
    assert.match(message, /\/steps must NOT have fewer than 1 items/);
  });

  it('generate_code: accepts a fenced JSON answer and normalises the language', async () => {
    const code = 'def main():\n    """Run."""\n    return 0\n\n\nif __name__ == "__main__":\n    main()\n';
    reply = (req) => {
      assert.deepEqual(JSON.parse(req.body.messages[1].content), GOOD_PLAN);
      return '```json\n' + JSON.stringify({ code, explanation: 'Minimal.', language: 'Python', functions: ['main'] }) + '\n```';
    };
    const result = await call(url['build-agent'], 'generate_code', { plan: GOOD_PLAN });
    assert.deepEqual(result, { code, explanation: 'Minimal.', language: 'python', functions: ['main'] });
  });

  it('generate_code: an HTTP error from the endpoint is an error reply', async () => {
    reply = () => [500, '{"error": {"message": "model overloaded"}}'];
    assert.match(await callFails(url['build-agent'], 'generate_code', { plan: GOOD_PLAN }), /answered HTTP 500: .*model overloaded/);
    reply = () => [200, '{"choices": []}'];
    assert.match(await callFails(url['build-agent'], 'generate_code', { plan: GOOD_PLAN }), /returned no chat completion message/);
  });

  it("review_code: returns the model's review, with the static findings in the prompt", async () => {
    const review = {
      quality_score: 8,
      issues: [{ severity: 'low', line: 1, message: 'no docstring' }],
      suggestions: ['Add a docstring.'],
      approved: true,
      summary: 'Fine.',
    };
    reply = () => JSON.stringify(review);
    const result = await call(url['test-agent'], 'review_code', { code: 'def f():\n    return 1\n' });
    assert.deepEqual(result, { ...review, language: 'python', syntax_check: (result as { syntax_check: string }).syntax_check });
    assert.match(requests[0].body.messages[1].content, /function f\(\) has no docstring/);
  });

  it('review_code: the model cannot approve code that does not parse', async () => {
    reply = () => JSON.stringify({ quality_score: 9, issues: [], suggestions: [], approved: true, summary: 'Looks good.' });
    const result = await call<{ approved: boolean; issues: { severity: string }[]; summary: string }>(url['test-agent'], 'review_code', {
      code: 'def f(:\n    return 1\n',
    });
    assert.equal(result.approved, false);
    assert.equal(result.issues.at(-1)!.severity, 'error');
    assert.match(result.summary, /^Looks good\. \(Not approved: /);
  });

  it('review_code: a score out of range is rejected', async () => {
    reply = () => JSON.stringify({ quality_score: 42, issues: [], suggestions: [], approved: true, summary: 'Great.' });
    assert.match(await callFails(url['test-agent'], 'review_code', { code: 'x = 1\n' }), /\/quality_score must be <= 10/);
  });

  it('times out a model that does not answer', async () => {
    reply = () => new Promise((resolve) => setTimeout(() => resolve(JSON.stringify(GOOD_PLAN)), 3000));
    assert.match(await callFails(url['plan-agent'], 'create_plan', { requirements: 'slow' }), /did not answer within 2000 ms/);
  });

  it('asks the model once for a retried call (idempotent replay by id)', async () => {
    reply = () => JSON.stringify(GOOD_PLAN);
    const a = await rpc(url['plan-agent'], 'create_plan', { requirements: 'A REST API' }, { id: 'wf/run/plan' });
    const b = await rpc(url['plan-agent'], 'create_plan', { requirements: 'A REST API' }, { id: 'wf/run/plan' });
    assert.deepEqual(b.body, a.body);
    assert.equal(requests.length, 1);
  });

  it('leaves the other skills deterministic', async () => {
    assert.equal(await (await rpc(url['router-agent'], 'analyze_request', { request: 'build a REST API' })).body.result, 'code_generation');
    await call(url['analysis-agent'], 'security_scan', { code: 'eval(x)\n' });
    assert.equal(requests.length, 0);
  });

  it('reads its settings from the environment', () => {
    assert.equal(llmConfigFromEnv({}), undefined);
    assert.deepEqual(llmConfigFromEnv({ PALLET_LLM_URL: 'http://localhost:11434/v1/', PALLET_LLM_MODEL: 'llama3.2' }), {
      url: 'http://localhost:11434/v1',
      model: 'llama3.2',
      apiKey: undefined,
      timeoutMs: 120_000,
    });
    assert.throws(() => llmConfigFromEnv({ PALLET_LLM_MODEL: 'x' }), /PALLET_LLM_URL is not set/);
    assert.throws(() => llmConfigFromEnv({ PALLET_LLM_URL: 'localhost:11434', PALLET_LLM_MODEL: 'x' }), /must be an http\(s\) URL/);
    assert.throws(() => llmConfigFromEnv({ PALLET_LLM_URL: 'http://x', PALLET_LLM_MODEL: 'x', PALLET_LLM_TIMEOUT_MS: 'soon' }), /PALLET_LLM_TIMEOUT_MS/);
  });
});
