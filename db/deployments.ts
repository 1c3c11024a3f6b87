// The record of the last `tracewell deploy` on each chain.
import { eq } from 'drizzle-orm';
import type { Db } from './client.js';
import { deployments } from './schema.js';

export type DeploymentRow = typeof deployments.$inferSelect;
export type DeploymentRecord = Omit<DeploymentRow, 'createdAt' | 'updatedAt'>;

export async function findDeployment(db: Db, chainId: number): Promise<DeploymentRow | undefined> {
  const [row] = await db.select().from(deployments).where(eq(deployments.chainId, chainId));
  return row;
}

export async function recordDeployment(db: Db, record: DeploymentRecord): Promise<void> {
  const { chainId, ...rest } = record;
  await db
    .insert(deployments)
    .values(record)
    .onConflictDoUpdate({ target: deployments.chainId, set: { ...rest, updatedAt: new Date() } });
}
