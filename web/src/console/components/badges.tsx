/** The states the console shows as badges: an app's status, a developer's verification, a review's. */
import { Badge } from '@mantine/core';

const APP_STATUS_COLORS: Record<string, string> = { SANDBOX: 'gray', LIVE: 'teal', SUSPENDED: 'red' };
const VERIFICATION_COLORS: Record<string, string> = { PENDING: 'yellow', VERIFIED: 'teal', REJECTED: 'red' };
const DECISION_COLORS: Record<string, string> = { PENDING: 'yellow', APPROVED: 'teal', REJECTED: 'red', WITHDRAWN: 'gray' };

export function AppStatusBadge({ status }: { status: string }) {
  return (
    <Badge color={APP_STATUS_COLORS[status] ?? 'gray'} variant="light">
      {status}
    </Badge>
  );
}

export function VerificationBadge({ status }: { status: string }) {
  return (
    <Badge color={VERIFICATION_COLORS[status] ?? 'gray'} variant="light">
      {status}
    </Badge>
  );
}

export function DecisionBadge({ status }: { status: string }) {
  return (
    <Badge color={DECISION_COLORS[status] ?? 'gray'} variant="light">
      {status}
    </Badge>
  );
}

export function DisabledBadge() {
  return (
    <Badge color="red" variant="outline">
      Disabled
    </Badge>
  );
}
