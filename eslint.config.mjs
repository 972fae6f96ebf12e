// Lint rules. src/ (the engine) may not import examples/. The workflow sandbox files get
// extra rules: workflow code must be deterministic, so Node built-ins, I/O, clocks, timers and
// randomness are forbidden there (Temporal's own sandbox replaces some of them, but a run's
// history must never depend on them).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Files that run inside the Temporal workflow sandbox (and the leaf modules they import). */
const SANDBOX = [
  'src/workflows/**/*.ts',
  'src/contract.ts',
  'src/failure-types.ts',
  'src/dsl/templates.ts',
  'src/dsl/template-context.ts',
  'src/dsl/plain-object.ts',
  'src/dsl/expressions.ts',
  'src/dsl/expression-budget.ts',
  'src/dsl/regex.ts',
  'src/dsl/durations.ts',
  'src/dsl/types.ts',
  'src/dsl/step-types.ts',
  'src/dsl/step-kinds.ts',
  'src/history/ids.ts',
];

/** src/ (the engine) never imports examples/. */
const NO_EXAMPLES = {
  regex: '(^|/)examples(/|$)',
  message: 'The engine (src/) must not import the examples: load them at run time by path, as `pallet agents` does.',
};

export default tseslint.config(
  { ignores: ['lib/**', 'node_modules/**', 'coverage/**', '.tools/**', 'app/**', '.pallet/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        console: 'readonly',
        process: 'readonly',
        require: 'readonly',
        module: 'readonly',
        __dirname: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        fetch: 'readonly',
        AbortSignal: 'readonly',
        AbortController: 'readonly',
        URL: 'readonly',
        Response: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    files: ['bin/**/*.js'],
    languageOptions: { sourceType: 'commonjs' },
  },
  {
    // src/ is the engine; examples/ (example agents, app writers) build on it, never the reverse.
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [NO_EXAMPLES] }],
    },
  },
  {
    files: SANDBOX,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^node:', message: 'Workflow code must not use Node built-ins: do it in an activity.' },
            {
              regex: '^(fs|path|os|http|https|net|crypto|child_process|process|worker_threads|timers|dns|url|util|stream)(/.*)?$',
              message: 'Workflow code must not use Node built-ins: do it in an activity.',
            },
            { regex: '^@temporalio/(client|worker|activity|testing)', message: 'Workflow code may only use @temporalio/workflow and @temporalio/common.' },
            { regex: '^(yaml|zod|ajv|commander)$', message: 'Keep the sandbox small: parse and validate outside the workflow.' },
            // Relative paths from any folder of src/: `./activities` (src/), `../activities`, `../../activities`...
            {
              regex: '^(\\./|(\\.\\./)+)(activities|sources|registry|agents|cli|client|worker|config|services|settings)(/|$)',
              allowTypeImports: true,
              message: 'Workflow code must not import Node-side modules (type imports only).',
            },
            // `./schema` (src/dsl), `./dsl/schema` (src/), `../dsl/schema`, `../../dsl/schema`...
            {
              regex: '^(\\./(dsl/)?|(\\.\\./)+dsl/)(loader|schema|validate|json-schema|advice|graph)$',
              allowTypeImports: true,
              message:
                'The loader, the schema (zod) and the validator are Node-side; the sandbox uses dsl/templates, dsl/types and dsl/step-kinds (type imports only).',
            },
            NO_EXAMPLES,
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        ...['process', 'require', 'Buffer', 'setTimeout', 'setInterval', 'setImmediate', 'fetch', 'performance', '__dirname'].map((name) => ({
          name,
          message: `"${name}" is not deterministic or not available in workflow code: use @temporalio/workflow (sleep, condition) or an activity.`,
        })),
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Clocks are not deterministic in workflow code: use workflowInfo() or sleep().' },
        {
          object: 'Math',
          property: 'random',
          message: 'Randomness is not deterministic in workflow code: use uuid4() from @temporalio/workflow or an activity.',
        },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'new Date() reads the clock: not deterministic in workflow code.' },
      ],
    },
  },
);
