// Layer rules for Tracewell, checked by `npm run layers` (part of `npm test`).
// Layers, lowest first: contracts/ and workflows/ (self-contained), db/, domain/, activities/ and api/, app/, tools/.
// Imports point down this list, never up; test/ may import anything and nothing imports test/.
// tsPreCompilationDeps counts `import type` edges too: a type-only edge is still an edge a reader follows.

/** Project folders, for rules that speak of "outside this layer" (npm packages and node: builtins are not layers). */
const LAYERS = '^(workflows|activities|contracts|api|db|domain|app|tools|test)/';

module.exports = {
  forbidden: [
    {
      name: 'contracts-self-contained',
      comment:
        'contracts/ (Solidity, its compile script and the generated ABI) is the bottom layer: everything may use the ABI, ' +
        'so the ABI may use nothing of the project.',
      severity: 'error',
      from: { path: '^contracts/' },
      to: { path: LAYERS, pathNot: '^contracts/' },
    },
    {
      name: 'workflows-sealed',
      comment:
        'workflows/ runs in the Temporal sandbox and must stay deterministic across replays: it imports only ' +
        'workflows/, @temporalio/workflow and @temporalio/common (which @temporalio/workflow itself loads into the ' +
        'sandbox), never zod, config, node: builtins or another layer, not even type-only, so a change elsewhere can ' +
        'never change what a running part does.',
      severity: 'error',
      from: { path: '^workflows/' },
      to: { pathNot: ['^workflows/', '^node_modules/@temporalio/(workflow|common)/'] },
    },
    {
      name: 'workflows-temporal-common-root-only',
      comment:
        'Values from @temporalio/common come only through its public entry (the module @temporalio/workflow itself ' +
        'loads), never a deep lib/ path that could pull code the sandbox does not otherwise run; `import type` may ' +
        'name a type from anywhere in it.',
      severity: 'error',
      from: { path: '^workflows/' },
      to: {
        path: '^node_modules/@temporalio/common/',
        pathNot: '^node_modules/@temporalio/common/lib/index\\.js$',
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'db-below-domain',
      comment:
        'db/ (schema, migrations, queries) sits under the domain: it may import only db/ (and workflow types, see ' +
        'db-workflows-type-only), so a query never reaches into business logic.',
      severity: 'error',
      from: { path: '^db/' },
      to: { path: LAYERS, pathNot: '^(db|workflows)/' },
    },
    {
      name: 'db-workflows-type-only',
      comment:
        'db/ stores workflow payloads as JSON columns typed by workflows/; it may name those types (`import type`) ' +
        'but must not load workflow code.',
      severity: 'error',
      from: { path: '^db/' },
      to: { path: '^workflows/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'domain-not-upward',
      comment:
        'domain/ is the business logic that activities/, api/ and app/ call; it may use db/, contracts/ and workflows/ ' +
        'but never the layers that call it, nor tools/ or test/.',
      severity: 'error',
      from: { path: '^domain/' },
      to: { path: '^(activities|api|app|tools|test)/' },
    },
    {
      name: 'activities-not-upward',
      comment:
        'activities/ adapt the domain for the Temporal worker; they may use domain/, db/, contracts/, workflows/, ' +
        'never the API, the process wiring, tools/ or test/.',
      severity: 'error',
      from: { path: '^activities/' },
      to: { path: '^(api|app|tools|test)/' },
    },
    {
      name: 'api-not-upward',
      comment:
        'api/ routes call the domain (and start workflows through the Temporal client); they never call an activity ' +
        'directly, never reach into app/ wiring, tools/ or test/.',
      severity: 'error',
      from: { path: '^api/' },
      to: { path: '^(activities|app|tools|test)/' },
    },
    {
      name: 'app-not-to-tools-or-test',
      comment: 'app/ assembles every layer into processes; the shipped service must not depend on tools/ or test/.',
      severity: 'error',
      from: { path: '^app/' },
      to: { path: '^(tools|test)/' },
    },
    {
      name: 'tools-not-to-test',
      comment: 'tools/ (bench, demo, fault gates) run outside the test suite, so they may not depend on test/ code.',
      severity: 'error',
      from: { path: '^tools/' },
      to: { path: '^test/' },
    },
    {
      name: 'no-circular',
      comment:
        'An import cycle means two modules cannot be understood, tested or moved apart; split out what they share. ' +
        'Type-only edges count too.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that resolves to no file on disk is a typo or a missing package.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-orphans',
      comment:
        'A module nothing imports and that imports nothing is usually dead code; remove it, or list it here if it is ' +
        'an entry point or a config file.',
      severity: 'error',
      from: {
        orphan: true,
        pathNot: [
          '(^|/)\\.[^/]+\\.(c|m)?js$', // dot-file configs such as this one
          '\\.d\\.ts$',
          '^[^/]+\\.config\\.ts$', // vitest.config.ts
          '(^|/)drizzle\\.config\\.ts$',
          '^test/.+\\.test\\.ts$', // a test imports nothing only when it tests node itself; still an entry point
        ],
      },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['^contracts/generated/.+\\.json$', '^db/migrations/', '^test/histories/'] },
    // Count `import type` edges; they are marked with the dependency type "type-only".
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // A worktree may link node_modules from another checkout: keep paths under ./node_modules so the rules match.
    preserveSymlinks: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    skipAnalysisNotInRules: true,
    reporterOptions: { text: { highlightFocused: true } },
  },
};
