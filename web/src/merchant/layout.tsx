/**
 * The merchant page's frame for a signed-in staff member: the header (the platform's name, the
 * staff member and their shop, sign out); the page renders in its <Outlet />.
 */
import { AppShell, Button, Container, Group, Text, VisuallyHidden } from '@mantine/core';
import { Link, Outlet, useNavigate } from 'react-router';
import { Brand } from '../lib/layout';
import { useStaffSession } from './session';

export function MerchantLayout() {
  const { session, signOut } = useStaffSession();
  const navigate = useNavigate();
  return (
    <AppShell header={{ height: 60 }} padding="lg">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Link to="/" style={{ color: 'inherit', textDecoration: 'none' }}>
            <Brand />
          </Link>
          {session && (
            <Group gap="sm" wrap="nowrap">
              <Text size="sm" visibleFrom="xs" data-testid="signed-in-staff">
                <VisuallyHidden>Signed in as </VisuallyHidden>
                {session.staff.name}{' '}
                <Text span c="dimmed" size="sm">
                  ({session.merchant.name})
                </Text>
              </Text>
              <Button
                variant="default"
                size="xs"
                onClick={async () => {
                  await signOut();
                  navigate('/sign-in');
                }}
              >
                Sign out
              </Button>
            </Group>
          )}
        </Group>
      </AppShell.Header>
      <AppShell.Main>
        <Container size="xl" px={0}>
          <Outlet />
        </Container>
      </AppShell.Main>
    </AppShell>
  );
}
