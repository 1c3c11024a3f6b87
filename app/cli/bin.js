#!/usr/bin/env node
// `npx tracewell ...`: runs the TypeScript CLI through tsx's loader.
import { register } from 'tsx/esm/api';

register();
await import('./tracewell.ts');
