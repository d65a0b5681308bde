/** Any address of the portal that is not a page. */
import { Button } from '@mantine/core';
import { Link } from 'react-router';
import { EmptyState, PageHeader } from '../lib';

export default function NotFoundPage() {
  return (
    <>
      <PageHeader title="Page not found" />
      <EmptyState
        title="There is no page at this address"
        action={
          <Button component={Link} to="/apps">
            Go to your apps
          </Button>
        }
      />
    </>
  );
}
