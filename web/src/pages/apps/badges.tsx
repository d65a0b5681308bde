/** The colored words for an app's status, a review's and a request's outcome, a sandbox's state. */
import { Badge } from '@mantine/core';
import type { AppReviewStatus, AppStatus, PackageRequestStatus, SandboxState } from './operations';

const APP_STATUS: Record<AppStatus, { color: string; label: string }> = {
  SANDBOX: { color: 'yellow', label: 'Sandbox' },
  LIVE: { color: 'green', label: 'Live' },
  SUSPENDED: { color: 'red', label: 'Suspended' },
};

export function AppStatusBadge({ status }: { status: AppStatus }) {
  const { color, label } = APP_STATUS[status];
  return (
    <Badge color={color} variant="light" data-testid="app-status" style={{ flexShrink: 0 }}>
      {label}
    </Badge>
  );
}

const OUTCOME: Record<AppReviewStatus | PackageRequestStatus, string> = { PENDING: 'blue', APPROVED: 'green', REJECTED: 'red', WITHDRAWN: 'gray' };

export function OutcomeBadge({ status }: { status: AppReviewStatus | PackageRequestStatus }) {
  return (
    <Badge color={OUTCOME[status]} variant="light">
      {status.toLowerCase()}
    </Badge>
  );
}

const SANDBOX: Record<SandboxState, { color: string; label: string }> = {
  NONE: { color: 'gray', label: 'Not provisioned' },
  PROVISIONING: { color: 'blue', label: 'Provisioning' },
  READY: { color: 'green', label: 'Ready' },
  FAILED: { color: 'red', label: 'Failed' },
};

export function SandboxBadge({ state }: { state: SandboxState }) {
  const { color, label } = SANDBOX[state];
  return (
    <Badge color={color} variant="light">
      {label}
    </Badge>
  );
}
