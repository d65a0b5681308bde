/** Any address of the console that is not a page. */
import { Button } from '@mantine/core';
import { Link } from 'react-router';
import { EmptyState, PageHeader } from '../../lib/layout';

export default function NotFoundPage() {
  return (
    <>
      <PageHeader title="Page not found" />
      <EmptyState
        title="There is no page at this address"
        action={
          <Button component={Link} to="/reviews">
            Go to the review queue
          </Button>
        }
      />
    </>
  );
}
