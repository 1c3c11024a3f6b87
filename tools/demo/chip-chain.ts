// `npm run demo`: seeds a chip supply chain on the embedded stack, through the HTTP API the way the
// participants' own systems would, then prints a product's backward trace and an ore lot's forward
// trace. Mine → ore lots → wafers → chips → products (assembled) → pallet → distributor → retailer,
// along two supply lines with a company of their own in each role.
//   npm run demo [-- --data-dir DIR] [--lots N] [--keep]   (N lots shared by the lines; --keep: leave the stack running)
// Ports: API_PORT, CHAIN_PORT, AZURITE_PORT, TEMPORAL_DEV_PORT and TEMPORAL_DEV_UI_PORT when set, free
// ones otherwise (stack-settings.ts).
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { spinnerOn } from '../../app/devstack/wait-indicator.js';
import { stopOnSignal } from '../../app/wiring/shutdown.js';
import { startStack } from '../../app/wiring/stack.js';
import { demoStackConfig } from './stack-settings.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: { 'data-dir': { type: 'string' }, lots: { type: 'string', default: '2' }, keep: { type: 'boolean', default: false } },
});
const LOTS = Number(values.lots);
const WAFERS_PER_LOT = 2;
const CHIPS_PER_WAFER = 4;
const CHIPS_PER_PRODUCT = 4;

/** Who plays each role along one supply line: the seeded network has two companies per role. */
interface SupplyLine {
  miner: string;
  manufacturer: string;
  certifier: string;
  distributor: string;
  retailer: string;
}

const LINES: SupplyLine[] = [
  {
    miner: 'sierra-mining',
    manufacturer: 'acme-foundry',
    certifier: 'tuv-assurance',
    distributor: 'northwind-logistics',
    retailer: 'harbor-retail',
  },
  {
    miner: 'ridge-minerals',
    manufacturer: 'delta-fab',
    certifier: 'norcert-labs',
    distributor: 'southgate-freight',
    retailer: 'corner-market',
  },
];

type Call = (method: string, path: string, body?: unknown, contentType?: string) => Promise<any>;

function client(apiUrl: string, apiKey: string): Call {
  return async (method, path, body, contentType = 'application/json') => {
    const response = await fetch(`${apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { 'content-type': contentType }) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const answer = response.status === 204 ? null : await response.json();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(answer)}`);
    return answer;
  };
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const dataDir = values['data-dir'] ? resolve(values['data-dir']) : undefined;
  const { config, temporal } = demoStackConfig(dataDir);
  console.log('starting the embedded stack (Temporal dev server, anvil, Azurite, PGlite, worker, API)');
  const stack = await startStack({ config, temporal, startTemporal: true, dataDir, waits: spinnerOn(process.stdout) });
  stopOnSignal(stack.stop);
  console.log(
    [
      '',
      `  API          ${stack.apiUrl}`,
      `  Temporal     ${stack.temporalAddress} (gRPC)`,
      `  Temporal UI  ${stack.temporalUiUrl}`,
      `  Chain RPC    ${stack.rpcUrl}`,
      '',
    ].join('\n'),
  );
  const startedAt = performance.now();
  try {
    const adminKey = config.TRACEWELL_ADMIN_API_KEY ?? stack.core.devAdminApiKey!;
    const admin = client(stack.apiUrl, adminKey);
    // Each participant acts with its own API key, and signs its own transactions.
    const as: Record<string, Call> = {};
    for (const id of LINES.flatMap((line) => Object.values(line))) {
      const { apiKey } = await admin('POST', `/participants/${id}/api-keys`, { label: 'demo' });
      as[id] = client(stack.apiUrl, apiKey.key);
    }
    for (const file of readdirSync(join(HERE, 'lifecycles')).sort()) {
      await admin('POST', '/lifecycles', readFileSync(join(HERE, 'lifecycles', file), 'utf8'), 'application/yaml');
    }

    const run = Date.now().toString(36);
    const lotsPerLine = LINES.map((_, l) => Math.ceil((LOTS - l) / LINES.length));
    const seeded = await Promise.all(
      LINES.filter((_, l) => lotsPerLine[l]! > 0).map((line, l) => seedLine({ admin, as, run }, line, l + 1, lotsPerLine[l]!)),
    );
    const parts = seeded.reduce((sum, line) => sum + line.parts, 0);
    console.log(`seeded ${parts} parts on ${seeded.length} supply lines in ${((performance.now() - startedAt) / 1000).toFixed(1)} s\n`);

    const [first] = seeded;
    const backward = await admin('GET', `/parts/${encodeURIComponent(first!.product)}/trace/backward`);
    console.log(
      `Backward trace of ${first!.product} (${backward.parts} parts, ${backward.depth} levels), as ${LINES[0]!.retailer} sees it:`,
    );
    printTree(backward.part, '', '');
    const forward = await admin('GET', `/parts/${encodeURIComponent(first!.lot)}/trace/forward`);
    console.log(`\nForward trace of ${first!.lot} (a recall): it reached ${forward.reached.length} parts`);
    console.log(`  products: ${forward.products.join(', ')}`);
    console.log(`  bundles:  ${forward.bundles.join(', ') || '(none)'}`);
    console.log(`  holders:  ${forward.holders.map((h: any) => `${h.participant ?? h.address} (${h.parts.length} parts)`).join(', ')}`);
    console.log(`\nAPI ${stack.apiUrl}  admin key ${adminKey}`);
    if (values.keep) {
      console.log('the stack keeps running (--keep); Ctrl-C stops it');
      await new Promise(() => {});
    }
  } finally {
    if (!values.keep) await stack.stop();
  }
}

interface Demo {
  admin: Call;
  as: Record<string, Call>;
  run: string;
}

/** Polls each part until `done`; a parked or failed part stops the demo with its error. */
async function until(demo: Demo, partIds: string[], done: (part: any) => boolean, what: string): Promise<void> {
  for (const partId of partIds) {
    for (let i = 0; ; i++) {
      const part = await demo.admin('GET', `/parts/${encodeURIComponent(partId)}`);
      if (done(part)) break;
      if (part.status === 'parked' || part.status === 'failed')
        throw new Error(`${partId} stopped at ${part.currentStep}: ${JSON.stringify(part.steps.find((s: any) => s.error)?.error)}`);
      if (i > 600) throw new Error(`${partId} did not reach "${what}"`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const completed = (part: any) => part.status === 'completed';

/**
 * One supply line, mine to shop. Only the ore lots and the pallet name their companies (`roles`);
 * wafers, chips and products inherit the manufacturer and certifier from the parts they are made of.
 */
async function seedLine(demo: Demo, line: SupplyLine, n: number, lots: number): Promise<{ parts: number; product: string; lot: string }> {
  const { admin, as } = demo;
  const id = (kind: string, ...k: number[]) => `urn:demo:${demo.run}:${kind}:${[n, ...k].join('.')}`;
  const start = (lifecycle: string, partId: string, params: Record<string, unknown>, roles?: Partial<SupplyLine>) =>
    admin('POST', '/parts', { id: partId, lifecycle, params, ...(roles ? { roles } : {}) });
  // The certifier signs each certificate into the document vault, sealed to the part's maker; the
  // part's lifecycle anchors the document's hash on chain.
  const certificate = async (kind: string, partId: string, to: string): Promise<string> => {
    const name = `${partId.split(':').slice(-2).join('-')}.txt`;
    const text = `${kind} certificate for ${partId}\nissued by ${line.certifier}\nresult: conforms\n`;
    const path = `/documents?folder=${kind}&name=${name}&kind=${kind}&recipients=${to}`;
    return (await as[line.certifier]!('POST', path, text, 'text/plain')).hash;
  };
  const quality = (partId: string) => certificate('quality', partId, line.manufacturer);

  const ores = Array.from({ length: lots }, (_, l) => id('ore-lot', l + 1));
  const { miner, certifier, manufacturer } = line;
  await Promise.all(
    ores.map(async (lot) =>
      start('demo-ore-lot', lot, { origin: await certificate('origin', lot, miner) }, { miner, certifier, manufacturer }),
    ),
  );
  await until(demo, ores, completed, 'sold to the fab');
  console.log(`line ${n}: ${ores.length} ore lots mined by ${miner}, certified by ${certifier} and sold to ${manufacturer}`);

  const wafers = ores.flatMap((lot, l) => Array.from({ length: WAFERS_PER_LOT }, (_, w) => ({ id: id('wafer', l + 1, w + 1), lot })));
  await Promise.all(wafers.map(async (wafer) => start('demo-wafer', wafer.id, { lot: wafer.lot, quality: await quality(wafer.id) })));
  await until(
    demo,
    wafers.map((w) => w.id),
    completed,
    'made',
  );
  const chips = wafers.flatMap((wafer) =>
    Array.from({ length: CHIPS_PER_WAFER }, (_, c) => ({ id: `${wafer.id.replace(':wafer:', ':chip:')}.${c + 1}`, wafer: wafer.id })),
  );
  await Promise.all(chips.map(async (chip) => start('demo-chip', chip.id, { wafer: chip.wafer, quality: await quality(chip.id) })));
  await until(
    demo,
    chips.map((c) => c.id),
    completed,
    'made',
  );
  console.log(`line ${n}: ${wafers.length} wafers and ${chips.length} chips made from them by ${manufacturer}, each tested and certified`);

  const pallet = id('pallet', 1);
  await start('demo-pallet', pallet, {}, { manufacturer });
  await until(demo, [pallet], completed, 'made');
  // Products are assembled from chips of different wafers, so a recall of one lot reaches several.
  const products = Array.from({ length: chips.length / CHIPS_PER_PRODUCT }, (_, p) => ({
    id: id('product', p + 1),
    chips: Array.from({ length: CHIPS_PER_PRODUCT }, (_, k) => chips[(p + k * (chips.length / CHIPS_PER_PRODUCT)) % chips.length]!.id),
  }));
  await Promise.all(
    products.map(async (product) =>
      start('demo-product', product.id, { chips: product.chips, pallet, quality: await quality(product.id) }),
    ),
  );
  await until(
    demo,
    products.map((p) => p.id),
    (part) => part.currentStep === 'arrived',
    'packed',
  );
  console.log(`line ${n}: ${products.length} products assembled from ${CHIPS_PER_PRODUCT} chips each, certified and packed on ${pallet}`);

  await as[manufacturer]!('POST', `/parts/${encodeURIComponent(pallet)}/transfer`, { to: line.distributor });
  await as[line.distributor]!('POST', `/parts/${encodeURIComponent(pallet)}/transfer`, { to: line.retailer });
  for (const product of products) await admin('POST', `/parts/${encodeURIComponent(product.id)}/signals/arrived`, {});
  await until(
    demo,
    products.map((p) => p.id),
    completed,
    'unpacked',
  );
  console.log(`line ${n}: the pallet went ${manufacturer} → ${line.distributor} → ${line.retailer}, which unpacked the products`);
  return { parts: ores.length + wafers.length + chips.length + products.length + 1, product: products[0]!.id, lot: ores[0]! };
}

function printTree(node: any, indent: string, branch: string): void {
  const certificates = node.certificates.map((c: any) => `${c.kind} by ${c.issuer}${c.valid ? '' : ' (EXPIRED)'}`).join(', ') || 'none';
  const custody = node.custody.map((c: any) => c.to).join(' → ');
  console.log(`${indent}${branch}${node.link ? `${node.link} ` : ''}${node.id}`);
  const detail = indent + (branch === '' ? '' : branch === '└─ ' ? '   ' : '│  ');
  console.log(`${detail}    certificates: ${certificates}; custody: ${custody || '(none)'}`);
  node.components.forEach((child: any, i: number) => printTree(child, detail, i === node.components.length - 1 ? '└─ ' : '├─ '));
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
