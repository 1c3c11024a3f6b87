// `npm run demo` as a user runs it, on the port settings they give: two supply lines through a
// network with two companies in each role, each part bound to its line's companies, then the traces.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../app/devstack/process.js';

/** Runs the demo to its end and answers its exit code and output. */
function runDemo(env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'tools/demo/chip-chain.ts', '--lots', '2'], {
    env: { ...process.env, DATABASE_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}

describe('npm run demo', () => {
  it('honours the port settings, prints the URLs, and runs two supply lines with a company of their own in each role', async () => {
    const [api, ui] = [await freePort(), await freePort()];
    const { code, output } = await runDemo({ API_PORT: String(api), TEMPORAL_DEV_UI_PORT: String(ui) });
    expect(code, output).toBe(0);
    expect(output).toMatch(new RegExp(`API {10}http://127\\.0\\.0\\.1:${api}\\n`));
    expect(output).toMatch(new RegExp(`Temporal UI {2}http://127\\.0\\.0\\.1:${ui}\\n`));
    expect(output).toMatch(/Temporal {5}127\.0\.0\.1:\d+ \(gRPC\)/);
    expect(output).toMatch(/Chain RPC {4}http:\/\/127\.0\.0\.1:\d+/);
    expect(output).toContain('line 1: 1 ore lots mined by sierra-mining, certified by tuv-assurance and sold to acme-foundry');
    expect(output).toContain('line 2: 1 ore lots mined by ridge-minerals, certified by norcert-labs and sold to delta-fab');
    expect(output).toContain('line 2: 2 wafers and 8 chips made from them by delta-fab, each tested and certified');
    expect(output).toContain('line 1: the pallet went acme-foundry → northwind-logistics → harbor-retail, which unpacked the products');
    expect(output).toContain('line 2: the pallet went delta-fab → southgate-freight → corner-market, which unpacked the products');
    expect(output).toContain('seeded 28 parts on 2 supply lines');
    // The chips inherited the lot's companies: line 1's product traces back to line 1's certifier and mine only.
    const trace = output.slice(output.indexOf('Backward trace'), output.indexOf('Forward trace'));
    expect(trace).toContain('origin by tuv-assurance; custody: sierra-mining → acme-foundry');
    expect(trace).not.toMatch(/norcert-labs|ridge-minerals|delta-fab/);
  }, 300_000);
});
