/** The audit log's one writer: every change operators (and apps, to their own settings) make, with who, what and why. */
import type { Executor } from '../../core/db.js';
import { auditLog } from './tables.js';

export interface AuditEntry {
  actor: string;
  action: string;
  targetType: string;
  targetId: string;
  reason?: string | null;
  details: Record<string, unknown>;
  /** When (the injected clock's time); absent: the database's. */
  at?: Date;
}

export async function audit(tx: Executor, entry: AuditEntry) {
  await tx.insert(auditLog).values({ ...entry, reason: entry.reason ?? null });
}
