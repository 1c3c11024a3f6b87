// The document vault's SQL index: versions by path, look-ups by hash and recipient, pages.
import { and, desc, eq, isNull, lt, max, or, sql } from 'drizzle-orm';
import type { SQL } from 'drizzle-orm';
import type { Db } from './client.js';
import { documents } from './schema.js';

export type DocumentRow = typeof documents.$inferSelect;
export type NewDocumentRow = Omit<DocumentRow, 'seq' | 'version' | 'createdAt' | 'deletedAt' | 'deletedBy'>;

const UNIQUE_VIOLATION = '23505';

/** Inserts the next version of the row's path; concurrent uploads to one path get distinct versions. */
export async function insertDocumentVersion(db: Db, row: NewDocumentRow): Promise<DocumentRow> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await db.transaction(async (tx) => {
        const [latest] = await tx
          .select({ version: max(documents.version) })
          .from(documents)
          .where(and(eq(documents.owner, row.owner), eq(documents.folder, row.folder), eq(documents.name, row.name)));
        const [inserted] = await tx
          .insert(documents)
          .values({ ...row, version: (latest?.version ?? 0) + 1 })
          .returning();
        return inserted!;
      });
    } catch (error) {
      const code = (error as { code?: string; cause?: { code?: string } }).code ?? (error as { cause?: { code?: string } }).cause?.code;
      if (code !== UNIQUE_VIOLATION || attempt >= 10) throw error;
    }
  }
}

export async function getDocument(db: Db, id: string): Promise<DocumentRow | undefined> {
  const [row] = await db.select().from(documents).where(eq(documents.id, id));
  return row;
}

/** Whether the participant sent the document or is one of its recipients. */
export function canRead(row: DocumentRow, participantId: string): boolean {
  return row.owner === participantId || row.recipients.includes(participantId);
}

const visibleTo = (participantId: string): SQL =>
  or(eq(documents.owner, participantId), sql`${documents.recipients} @> ${JSON.stringify([participantId])}::jsonb`)!;

export interface DocumentFilter {
  /** Only documents this participant sent or received. */
  visibleTo: string;
  owner?: string;
  folder?: string;
  name?: string;
  kind?: string;
  hash?: string;
  /** `sent`: the participant's own; `received`: sealed to it by others. */
  box?: 'sent' | 'received';
  includeDeleted?: boolean;
  limit: number;
  /** The `seq` of the last row of the previous page. */
  after?: number;
}

/** Documents newest first, one page at a time. */
export async function listDocuments(db: Db, filter: DocumentFilter): Promise<{ rows: DocumentRow[]; next?: number }> {
  const where: SQL[] = [visibleTo(filter.visibleTo)];
  if (filter.owner) where.push(eq(documents.owner, filter.owner));
  if (filter.folder) where.push(eq(documents.folder, filter.folder));
  if (filter.name) where.push(eq(documents.name, filter.name));
  if (filter.kind) where.push(eq(documents.kind, filter.kind));
  if (filter.hash) where.push(eq(documents.hash, filter.hash.toLowerCase()));
  if (filter.box === 'sent') where.push(eq(documents.owner, filter.visibleTo));
  if (filter.box === 'received') where.push(sql`${documents.owner} <> ${filter.visibleTo}`);
  if (!filter.includeDeleted) where.push(isNull(documents.deletedAt));
  if (filter.after !== undefined) where.push(lt(documents.seq, filter.after));
  const rows = await db
    .select()
    .from(documents)
    .where(and(...where))
    .orderBy(desc(documents.seq))
    .limit(filter.limit + 1);
  const page = rows.slice(0, filter.limit);
  return { rows: page, next: rows.length > filter.limit ? page.at(-1)!.seq : undefined };
}

/** Every version of the row's path that the participant may see, newest first (deleted ones too). */
export async function documentVersions(db: Db, row: DocumentRow, participantId: string): Promise<DocumentRow[]> {
  return db
    .select()
    .from(documents)
    .where(and(eq(documents.owner, row.owner), eq(documents.folder, row.folder), eq(documents.name, row.name), visibleTo(participantId)))
    .orderBy(desc(documents.version));
}

/** Live documents with this content hash, oldest first. */
export async function documentsWithHash(db: Db, hash: string): Promise<DocumentRow[]> {
  return db
    .select()
    .from(documents)
    .where(and(eq(documents.hash, hash.toLowerCase()), isNull(documents.deletedAt)))
    .orderBy(documents.seq);
}

/** Forgets a version entirely: only for one stored by a request that then failed. */
export async function deleteDocumentRow(db: Db, id: string): Promise<void> {
  await db.delete(documents).where(eq(documents.id, id));
}

export async function markDocumentDeleted(db: Db, id: string, by: string): Promise<void> {
  await db.update(documents).set({ deletedAt: new Date(), deletedBy: by }).where(eq(documents.id, id));
}

/** Remembers the blob ETag at which this service recomputed and matched the document's hash. */
export async function setVerifiedEtag(db: Db, id: string, etag: string): Promise<void> {
  await db.update(documents).set({ verifiedEtag: etag }).where(eq(documents.id, id));
}
