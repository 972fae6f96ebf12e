// The Temporal Web UI of the shared dev server, driven by headless Chromium: a finished
// Pallet run is findable in the Workflows list, its page shows the status and one
// `callAgent` activity per step (activity id = step id, summary "step: skill"), the memo
// names the definition, and the `state` query answers from the Queries tab.
// Skips itself when /usr/bin/chromium is missing (`bash scripts/install-tools.sh chromium`).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { Services } from '../../src/services';
import { loadSettings } from '../../src/settings';
import { parseDefinition } from '../../src/dsl/loader';
import type { RunResult } from '../../src/dsl/types';
import { startTestAgent, type TestAgent } from '../helpers/agents';
import { ROOT, temporalUiUrl } from '../helpers/temporal';
import { requireTool } from '../helpers/tools';
import { withWorker } from '../helpers/worker';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SCREENSHOT = path.join(ROOT, 'coverage', 'web-ui-run.png');

const parsed = parseDefinition(
  `
metadata: { id: web-ui-demo-v1, name: Web UI demo, version: 1.2.3 }
steps:
  - id: plan
    skill: create_plan
    inputs: { requirements: "{{ workflow.input.requirements }}" }
    outputs: result
  - id: build
    skill: generate_code
    inputs: { plan: "{{ steps.plan.outputs.result }}" }
    outputs: result
  - id: review
    skill: review_code
    inputs: { code: "{{ steps.build.outputs.result.code }}" }
    outputs: result
`,
  'web-ui-demo.yaml',
);
if (!parsed.ok) throw new Error(parsed.problems.map((p) => p.message).join('\n'));
const definition = parsed.definition;
const STEPS = [
  { id: 'plan', skill: 'create_plan' },
  { id: 'build', skill: 'generate_code' },
  { id: 'review', skill: 'review_code' },
];

/** Text of the page as a user sees it (CSS text-transform applied), whitespace collapsed. */
async function visibleText(page: Page): Promise<string> {
  return (await page.locator('body').innerText()).replace(/\s+/g, ' ');
}

/** Waits for `locator`, reloading the page between tries (for data the server indexes asynchronously). */
async function waitWithReload(page: Page, locator: Locator, tries = 3): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await locator.waitFor({ timeout: 10_000 });
      return;
    } catch (err) {
      if (attempt >= tries) throw err;
      await page.reload();
    }
  }
}

describe('Temporal Web UI shows a Pallet run (headless Chromium)', function () {
  this.timeout(90_000);
  let planAgent: TestAgent;
  let buildAgent: TestAgent;
  let context: BrowserContext;
  let profileDir: string;
  let page: Page;

  before(async () => {
    requireTool(CHROMIUM, 'headless Chromium');
    planAgent = await startTestAgent('plan-agent', { create_plan: (p) => ({ title: `Plan for ${String(p.requirements)}`, steps: ['parse', 'render'] }) });
    buildAgent = await startTestAgent('build-agent', {
      generate_code: () => ({ code: 'print("hello")', language: 'python' }),
      review_code: (p) => ({ approved: true, lines: String(p.code).split('\n').length }),
    });
    profileDir = mkdtempSync(path.join(os.tmpdir(), 'pallet-chromium-'));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      headless: true,
      viewport: { width: 1400, height: 1000 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(20_000);
  });

  after(async () => {
    await context?.close();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
    await planAgent?.close();
    await buildAgent?.close();
  });

  it('shows the finished run, its steps as activities, the memo and the state query', async () => {
    const uiUrl = await temporalUiUrl();
    const workflowId = `web-ui-${process.pid}-${Date.now().toString(36)}`;

    // The worker stays up while the browser looks: the Queries tab needs one to answer.
    await withWorker({ agentUrls: [planAgent.url, buildAgent.url] }, async ({ start }) => {
      const handle = await start({ definition, input: { requirements: 'a greeting' } }, workflowId);
      const result = (await handle.result()) as RunResult;
      assert.deepEqual(Object.keys(result.step_outputs), ['plan', 'build', 'review']);
      const runId = handle.firstExecutionRunId;

      // 1. The Workflows list, filtered by workflow id (visibility may lag a moment: reload until listed).
      const listUrl = `${uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(`WorkflowId="${workflowId}"`)}`;
      await page.goto(listUrl);
      const row = page.getByRole('row').filter({ hasText: workflowId }).first();
      await waitWithReload(page, row);
      const rowText = (await row.innerText()).replace(/\s+/g, ' ');
      assert.match(rowText, /completed/i, rowText);
      assert.match(rowText, /palletWorkflow/, rowText);
      assert.ok(rowText.includes(runId), `the list row shows the run id: ${rowText}`);

      // 2. The run's page (timeline view): id, status, type, one bar per step labelled "callAgent • step: skill".
      await page.goto(`${uiUrl}/namespaces/default/workflows/${encodeURIComponent(workflowId)}`);
      await page.getByTestId('workflow-id-heading').filter({ hasText: workflowId }).waitFor();
      await page
        .getByTestId('execution-status')
        .filter({ hasText: /completed/i })
        .waitFor();
      for (const step of STEPS) await page.getByText(`callAgent • ${step.id}: ${step.skill}`, { exact: true }).waitFor();
      let text = await visibleText(page);
      assert.match(text, /Workflow Type palletWorkflow/);
      assert.ok(page.url().includes(runId), `redirected to the latest run: ${page.url()}`);
      mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });

      // 3. The address `pallet run` prints opens the run's timeline, one bar per step; on the
      //    history tab each step's scheduled activity shows its summary, its activity id (the
      //    step id) and the type callAgent.
      await page.goto(new Services(loadSettings({ TEMPORAL_UI_URL: uiUrl })).runUrl(workflowId, runId));
      assert.match(page.url(), /\/timeline$/);
      for (const step of STEPS) await page.getByText(`callAgent • ${step.id}: ${step.skill}`, { exact: true }).waitFor();
      await page.getByTestId('history-tab').click();
      await page.getByRole('button', { name: 'Compact' }).click();
      for (const [i, step] of STEPS.entries()) {
        await page
          .getByTestId('event-summary-row')
          .filter({ hasText: `${step.id}: ${step.skill}` })
          .click();
        await page.getByText('Activity ID', { exact: true }).nth(i).waitFor(); // its details are open
      }
      text = await visibleText(page);
      for (const step of STEPS) {
        assert.match(
          text,
          new RegExp(`Summary ${step.id}: ${step.skill} Activity ID ${step.id} Activity Type callAgent`),
          `activity of step ${step.id} in the history`,
        );
      }

      // 4. The memo: which definition ran.
      await page.getByTestId('memo-tab').click();
      await page.getByText('"definitionId"').waitFor();
      text = await visibleText(page);
      assert.match(text, /"definitionId": "web-ui-demo-v1"/);
      assert.match(text, /"definitionName": "Web UI demo"/);
      assert.match(text, /"definitionVersion": "1.2.3"/);

      // 5. The `state` query from the Queries tab (answered by the running worker).
      await page.getByTestId('queries-tab').click();
      const runQuery = page.getByRole('button', { name: /^(Run|Refresh) Query$/ });
      await runQuery.click();
      await page.getByText('"status": "completed"').waitFor();
      text = await visibleText(page);
      assert.match(text, /"finished": \[ "plan", "build", "review" \]/);
    });
  });
});
