// `npm run demo`: seeds a chip supply chain on the embedded stack, through the HTTP API the way the
// participants' own systems would, then prints a product's backward trace and an ore lot's forward
// trace. Mine → ore lots → wafers → chips → products (assembled) → pallet → distributor → retailer.
//   npm run demo [-- --data-dir DIR] [--lots N] [--keep]   (--keep: leave the stack running)
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
    for (const id of ['sierra-mining', 'acme-foundry', 'northwind-logistics', 'harbor-retail', 'tuv-assurance']) {
      const { apiKey } = await admin('POST', `/participants/${id}/api-keys`, { label: 'demo' });
      as[id] = client(stack.apiUrl, apiKey.key);
    }
    for (const file of readdirSync(join(HERE, 'lifecycles')).sort()) {
      await admin('POST', '/lifecycles', readFileSync(join(HERE, 'lifecycles', file), 'utf8'), 'application/yaml');
    }

    const run = Date.now().toString(36);
    const id = (kind: string, ...n: number[]) => `urn:demo:${run}:${kind}:${n.join('.')}`;
    const certifier = 'tuv-assurance';
    const start = (lifecycle: string, partId: string, params: Record<string, unknown>) =>
      admin('POST', '/parts', { id: partId, lifecycle, params });
    // The certifier signs each certificate into the document vault, sealed to the part's maker; the
    // part's lifecycle anchors the document's hash on chain.
    const certificate = async (kind: string, partId: string, to: string): Promise<string> => {
      const name = `${partId.split(':').slice(-2).join('-')}.txt`;
      const text = `${kind} certificate for ${partId}\nissued by ${certifier}\nresult: conforms\n`;
      const stored = await as[certifier]!(
        'POST',
        `/documents?folder=${kind}&name=${name}&kind=${kind}&recipients=${to}`,
        text,
        'text/plain',
      );
      return stored.hash;
    };
    const until = async (partIds: string[], done: (part: any) => boolean, what: string) => {
      for (const partId of partIds) {
        for (let i = 0; ; i++) {
          const part = await admin('GET', `/parts/${encodeURIComponent(partId)}`);
          if (done(part)) break;
          if (part.status === 'parked' || part.status === 'failed')
            throw new Error(`${partId} stopped at ${part.currentStep}: ${JSON.stringify(part.steps.find((s: any) => s.error)?.error)}`);
          if (i > 600) throw new Error(`${partId} did not reach "${what}"`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    };
    const completed = (part: any) => part.status === 'completed';

    const lots = Array.from({ length: LOTS }, (_, l) => id('ore-lot', l + 1));
    await Promise.all(
      lots.map(async (lot) =>
        start('demo-ore-lot', lot, {
          mine: 'sierra-mining',
          fab: 'acme-foundry',
          certifier,
          origin: await certificate('origin', lot, 'sierra-mining'),
        }),
      ),
    );
    await until(lots, completed, 'sold to the fab');
    console.log(`${lots.length} ore lots mined by sierra-mining, certified and sold to acme-foundry`);

    const wafers = lots.flatMap((lot, l) => Array.from({ length: WAFERS_PER_LOT }, (_, w) => ({ id: id('wafer', l + 1, w + 1), lot })));
    await Promise.all(
      wafers.map(async (wafer) =>
        start('demo-wafer', wafer.id, {
          fab: 'acme-foundry',
          lot: wafer.lot,
          certifier,
          quality: await certificate('quality', wafer.id, 'acme-foundry'),
        }),
      ),
    );
    await until(
      wafers.map((w) => w.id),
      completed,
      'made',
    );
    const chips = wafers.flatMap((wafer) =>
      Array.from({ length: CHIPS_PER_WAFER }, (_, c) => ({ id: `${wafer.id.replace(':wafer:', ':chip:')}.${c + 1}`, wafer: wafer.id })),
    );
    await Promise.all(
      chips.map(async (chip) =>
        start('demo-chip', chip.id, {
          fab: 'acme-foundry',
          wafer: chip.wafer,
          certifier,
          quality: await certificate('quality', chip.id, 'acme-foundry'),
        }),
      ),
    );
    await until(
      chips.map((c) => c.id),
      completed,
      'made',
    );
    console.log(`${wafers.length} wafers and ${chips.length} chips made from them, each tested and certified`);

    const pallet = id('pallet', 1);
    await start('demo-pallet', pallet, { owner: 'acme-foundry' });
    await until([pallet], completed, 'made');
    // Products are assembled from chips of different wafers, so a recall of one lot reaches several.
    const products = Array.from({ length: chips.length / CHIPS_PER_PRODUCT }, (_, p) => ({
      id: id('product', p + 1),
      chips: Array.from({ length: CHIPS_PER_PRODUCT }, (_, k) => chips[(p + k * (chips.length / CHIPS_PER_PRODUCT)) % chips.length]!.id),
    }));
    await Promise.all(
      products.map(async (product) =>
        start('demo-product', product.id, {
          maker: 'acme-foundry',
          chips: product.chips,
          pallet,
          certifier,
          quality: await certificate('quality', product.id, 'acme-foundry'),
        }),
      ),
    );
    await until(
      products.map((p) => p.id),
      (part) => part.currentStep === 'arrived',
      'packed',
    );
    console.log(`${products.length} products assembled from ${CHIPS_PER_PRODUCT} chips each, certified and packed on ${pallet}`);

    await as['acme-foundry']!('POST', `/parts/${encodeURIComponent(pallet)}/transfer`, { to: 'northwind-logistics' });
    await as['northwind-logistics']!('POST', `/parts/${encodeURIComponent(pallet)}/transfer`, { to: 'harbor-retail' });
    for (const product of products) await admin('POST', `/parts/${encodeURIComponent(product.id)}/signals/arrived`, {});
    await until(
      products.map((p) => p.id),
      completed,
      'unpacked',
    );
    console.log(`the pallet went acme-foundry → northwind-logistics → harbor-retail, which unpacked the products`);
    console.log(
      `seeded ${lots.length + wafers.length + chips.length + products.length + 1} parts in ${((performance.now() - startedAt) / 1000).toFixed(1)} s\n`,
    );

    const product = products[0]!.id;
    const backward = await admin('GET', `/parts/${encodeURIComponent(product)}/trace/backward`);
    console.log(`Backward trace of ${product} (${backward.parts} parts, ${backward.depth} levels), as harbor-retail sees it:`);
    printTree(backward.part, '', '');
    const forward = await admin('GET', `/parts/${encodeURIComponent(lots[0]!)}/trace/forward`);
    console.log(`\nForward trace of ${lots[0]} (a recall): it reached ${forward.reached.length} parts`);
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
