/**
 * USER_MERGED as each app sees it. The account service writes one event per merchant that knows the
 * merged buyers, with every app's own identifiers of them (subgraphs/account/user-merge.ts); an app
 * is shown only its own entry, and never the platform's user ids, whether the event is pushed or its
 * record is read back.
 */

export interface AppMergedIdentity {
  mergedOpenid: string;
  mergedUnionid: string | null;
  survivingOpenid: string;
  survivingUnionid: string | null;
}

const isEntry = (value: unknown): value is AppMergedIdentity & { appKey: string } =>
  typeof value === 'object' && value !== null && typeof (value as { appKey?: unknown }).appKey === 'string';

/** The app's own identifiers of a merge, or undefined when it never saw the merged buyer. */
export function mergedIdentityFor(payload: Record<string, unknown>, appKey: string): AppMergedIdentity | undefined {
  const entries = Array.isArray(payload.identities) ? payload.identities : [];
  const own = entries.find((e): e is AppMergedIdentity & { appKey: string } => isEntry(e) && e.appKey === appKey);
  return own ? { mergedOpenid: own.mergedOpenid, mergedUnionid: own.mergedUnionid ?? null, survivingOpenid: own.survivingOpenid, survivingUnionid: own.survivingUnionid ?? null } : undefined;
}

/** An event's payload as an app may read it: a merge's narrowed to the app's own identifiers. */
export function payloadForApp(type: string, payload: Record<string, unknown>, appKey: string): Record<string, unknown> {
  if (type !== 'user.merged') return payload;
  const { identities: _identities, mergedUserId: _merged, survivingUserId: _surviving, ...rest } = payload;
  return { ...rest, ...(mergedIdentityFor(payload, appKey) ?? {}) };
}
