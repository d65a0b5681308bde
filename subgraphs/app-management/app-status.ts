import { eq } from 'drizzle-orm';
import type { Executor } from '../../core/db.js';
import { conflict } from '../../core/errors.js';
import { recordEvents } from '../../messages/outbox.js';
import { audit } from './audit.js';
import { apps, appStatusChanges, outboxEvents, type AppRow } from './tables.js';

/**
 * The one path of every status change of an app (operators' setAppStatus and reinstatement, a
 * violation's suspension), inside the caller's transaction with the app's row locked: the status,
 * the status a suspension replaced (so reinstatement can restore it), a row of the app's status
 * history, the audit log and the app.status_changed event. Gateways see it within APP_ACCESS_CACHE_MS.
 */
export async function changeAppStatus(tx: Executor, actor: string, current: AppRow, to: AppRow['status'], reason: string): Promise<AppRow> {
  // Nothing to change is a CONFLICT, not a silent success: the operator's reason is not lost in an
  // answer that looks like a change the audit log never shows.
  if (current.status === to) throw conflict(`App ${current.key} is already ${current.status}`, { currentStatus: current.status });
  const statusBeforeSuspension = to === 'SUSPENDED' ? (current.status as 'SANDBOX' | 'LIVE') : null;
  const [updated] = await tx.update(apps).set({ status: to, statusBeforeSuspension, updatedAt: new Date() }).where(eq(apps.id, current.id)).returning();
  await tx.insert(appStatusChanges).values({ appId: current.id, fromStatus: current.status, toStatus: to, actor, reason });
  await audit(tx, { actor, action: 'app.status_changed', targetType: 'app', targetId: current.key, reason, details: { from: current.status, to } });
  await recordEvents(tx, outboxEvents, [
    { merchantId: null, aggregateType: 'app', aggregateId: current.key, type: 'app.status_changed', payload: { appKey: current.key, from: current.status, to } },
  ]);
  return updated!;
}
