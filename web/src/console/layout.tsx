/**
 * The console's frame for a signed-in operator: the header (the platform's name, the operator,
 * sign out) and the navigation (developers, apps, the review queue, then the operations pages of
 * ops-nav.ts); the page renders in its <Outlet />.
 */
import { AppShell, Burger, Button, Group, NavLink, Progress, Text, VisuallyHidden } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useEffect } from 'react';
import { Link, Outlet, useLocation, useNavigate, useNavigation } from 'react-router';
import { Brand } from '../lib/layout';
import { REVIEW_NAV } from './nav';
import { opsNav } from './ops-nav';
import { useOperatorSession } from './session';

const isCurrent = (pathname: string, to: string) => pathname === to || pathname.startsWith(`${to}/`);

export function ConsoleLayout() {
  const [opened, { toggle, close }] = useDisclosure();
  const { session, signOut } = useOperatorSession();
  const location = useLocation();
  const navigate = useNavigate();
  // While the router fetches the next page's chunk, the current page stays: a bar says something is coming.
  const navigating = useNavigation().state !== 'idle';
  useEffect(close, [location.pathname, close]);
  const operator = session?.operator;
  return (
    <AppShell header={{ height: 60 }} navbar={{ width: 230, breakpoint: 'sm', collapsed: { mobile: !opened } }} padding="lg">
      <AppShell.Header>
        {navigating && <Progress value={100} animated size="xs" radius={0} pos="absolute" top={0} left={0} right={0} aria-label="Loading the page" />}
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label={opened ? 'Close navigation' : 'Open navigation'} />
            <Link to="/" style={{ color: 'inherit', textDecoration: 'none' }}>
              <Brand />
            </Link>
          </Group>
          {operator && (
            <Group gap="sm" wrap="nowrap">
              <Text size="sm" visibleFrom="xs" data-testid="signed-in-operator">
                <VisuallyHidden>Signed in as </VisuallyHidden>
                {operator.name}{' '}
                <Text span c="dimmed" size="sm">
                  ({operator.email})
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
      <AppShell.Navbar p="sm" aria-label="Console">
        <nav aria-label="Main">
          {[...REVIEW_NAV, ...opsNav].map((item) => (
            <NavLink
              key={item.to}
              component={Link}
              to={item.to}
              label={item.label}
              active={isCurrent(location.pathname, item.to)}
              aria-current={isCurrent(location.pathname, item.to) ? 'page' : undefined}
            />
          ))}
        </nav>
      </AppShell.Navbar>
      <AppShell.Main>
        <Outlet />
      </AppShell.Main>
    </AppShell>
  );
}
