/** The audit log page's operation; its types are generated (npm run web:types). */
import { operation } from '../../../lib';
import type * as G from '../../../generated/operations';

export type AuditLogEntry = G.ConsoleAuditLogResult['auditLog']['nodes'][number];
export type AuditLogFilter = NonNullable<G.ConsoleAuditLogVariables['filter']>;

export const AUDIT_LOG = operation<G.ConsoleAuditLogResult, G.ConsoleAuditLogVariables>(/* GraphQL */ `
  query ConsoleAuditLog($filter: AuditLogFilter, $first: Int!, $after: String) {
    auditLog(filter: $filter, first: $first, after: $after) {
      totalCount
      nodes { id at actor action targetType targetId reason details }
      pageInfo { hasNextPage endCursor }
    }
  }
`);
