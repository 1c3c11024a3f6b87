// Every activity the worker registers, built from its dependencies.
import type { ActivityDeps } from './context.js';
import { createPartActivities } from './parts.js';

export function createActivities(deps: ActivityDeps) {
  return { ...createPartActivities(deps) };
}

export type Activities = ReturnType<typeof createActivities>;
export type { ActivityDeps } from './context.js';
