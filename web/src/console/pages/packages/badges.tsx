/** The coloured words of a package's tier and a request's status. */
import { Badge } from '@mantine/core';
import type { PackageRequestStatus, PackageTier } from './operations';

export function TierBadge({ tier }: { tier: PackageTier }) {
  return (
    <Badge color={tier === 'PAID' ? 'grape' : 'teal'} variant="light" style={{ flexShrink: 0 }}>
      {tier === 'PAID' ? 'Paid' : 'Free'}
    </Badge>
  );
}

const REQUEST_COLOR: Record<PackageRequestStatus, string> = { PENDING: 'blue', APPROVED: 'green', REJECTED: 'red', WITHDRAWN: 'gray' };

export function RequestStatusBadge({ status }: { status: PackageRequestStatus }) {
  return (
    <Badge color={REQUEST_COLOR[status]} variant="light">
      {status.toLowerCase()}
    </Badge>
  );
}
