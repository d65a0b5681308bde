/** Who may do what in app-management, and under which name it is recorded (the audit log's actor). */
import type { Caller } from '../../core/caller.js';
import { forbidden } from '../../core/errors.js';

/** Operator mutations are recorded under the operator who made them. */
export function operatorActor(caller: Caller): string {
  if (caller.kind !== 'operator' || !caller.operatorId) throw forbidden('Only operators may do this');
  return `operator:${caller.operatorId}`;
}

/**
 * The app itself, acting for no merchant: a client-credentials token, which only the holder of the
 * app's secret can get. A token a merchant authorized is for that merchant's data; one leaked or
 * stolen must not be able to rotate the app's secret (and lock its developer out) or ask for packages.
 */
export function appLevelCaller(caller: Caller, what: string): string {
  if (caller.kind !== 'app' || caller.merchantId) throw forbidden(`${what} with the app's own token (client credentials), not one a merchant authorized`);
  return caller.appKey;
}

/**
 * The developer signed in to the portal (a session, never a token): their id. Developer operations
 * also require the `developer` scope in the SDL; this is the resolvers' own check of the principal.
 */
export function developerOf(caller: Caller): string {
  if (caller.kind !== 'developer' || !caller.developerId) throw forbidden('Only a developer signed in to the portal may do this');
  return caller.developerId;
}
