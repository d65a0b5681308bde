/**
 * The portal's frame, shared by every page: the header (logo, the platform's name, the signed-in
 * developer and sign out), the navigation, and the small pieces each page uses for its title and
 * for its loading, error and empty states.
 */
import { Alert, AppShell, Burger, Button, Center, Group, NavLink, Paper, Progress, Stack, Text, Title, VisuallyHidden } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useEffect, type ReactNode } from 'react';
import { Link, Outlet, useLocation, useNavigate, useNavigation } from 'react-router';
import { frontEnd } from './front-end';
import { describeGraphQLError } from './graphql';
import { PageLoader, useSession } from './session';

export const PLATFORM_NAME = 'Portico';

export function Logo({ size = 28 }: { size?: number }) {
  // The same file as the favicon (web/public/logo.svg); decorative beside the platform's name.
  return <img src={`${import.meta.env.BASE_URL}logo.svg`} width={size} height={size} alt="" />;
}

export function Brand() {
  return (
    <Group gap="xs" wrap="nowrap">
      <Logo />
      <Text fw={700} size="lg">
        {PLATFORM_NAME}
      </Text>
      <Text c="dimmed" size="sm" visibleFrom="xs">
        {frontEnd().label}
      </Text>
    </Group>
  );
}

export const NAVIGATION: { to: string; label: string }[] = [
  { to: '/apps', label: 'Apps' },
  { to: '/explorer', label: 'API explorer' },
  { to: '/reference', label: 'API reference' },
  { to: '/announcements', label: 'Announcements' },
];

/** Sets the document's title, so each page is announced by its name. */
export function useDocumentTitle(title: string) {
  useEffect(() => {
    document.title = `${title} · ${frontEnd().title}`;
  }, [title]);
}

/** The frame of a signed-in developer's pages; the page renders in its <Outlet />. */
export function PortalLayout() {
  const [opened, { toggle, close }] = useDisclosure();
  const { session, signOut } = useSession();
  const location = useLocation();
  const navigate = useNavigate();
  // While the router fetches the next page's chunk, the current page stays: a bar says something is coming.
  const navigating = useNavigation().state !== 'idle';
  useEffect(close, [location.pathname, close]);
  return (
    <AppShell header={{ height: 60 }} navbar={{ width: 230, breakpoint: 'sm', collapsed: { mobile: !opened } }} padding="lg">
      <AppShell.Header>
        {navigating && <Progress value={100} animated size="xs" radius={0} pos="absolute" top={0} left={0} right={0} aria-label="Loading the page" />}
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label={opened ? 'Close navigation' : 'Open navigation'} />
            <Link to="/apps" style={{ color: 'inherit', textDecoration: 'none' }}>
              <Brand />
            </Link>
          </Group>
          {session && (
            <Group gap="sm" wrap="nowrap">
              <Text size="sm" visibleFrom="xs" data-testid="signed-in-developer">
                <VisuallyHidden>Signed in as </VisuallyHidden>
                {session.developer.name} <Text span c="dimmed" size="sm">({session.developer.email})</Text>
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
      <AppShell.Navbar p="sm" aria-label="Portal">
        <nav aria-label="Main">
          {NAVIGATION.map((item) => (
            <NavLink
              key={item.to}
              component={Link}
              to={item.to}
              label={item.label}
              active={location.pathname === item.to || location.pathname.startsWith(`${item.to}/`)}
              aria-current={location.pathname.startsWith(item.to) ? 'page' : undefined}
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

/** The frame of the pages before sign-in: the brand above one card. */
export function PublicLayout() {
  return (
    <Center mih="100vh" p="md" bg="var(--mantine-color-gray-0)">
      <Stack w="100%" maw={440} gap="lg">
        <Center>
          <Link to={frontEnd().signInRoute} style={{ color: 'inherit', textDecoration: 'none' }}>
            <Brand />
          </Link>
        </Center>
        <Paper withBorder shadow="sm" p="xl" radius="md" component="main">
          <Outlet />
        </Paper>
      </Stack>
    </Center>
  );
}

/** A page's heading (its <h1>) and an optional line below it and actions beside it. */
export function PageHeader({ title, description, actions }: { title: string; description?: ReactNode; actions?: ReactNode }) {
  useDocumentTitle(title);
  return (
    <Group justify="space-between" align="flex-start" mb="lg" wrap="wrap">
      <Stack gap={4}>
        <Title order={1} size="h2">
          {title}
        </Title>
        {description && (
          <Text c="dimmed" component={typeof description === 'string' ? 'p' : 'div'}>
            {description}
          </Text>
        )}
      </Stack>
      {actions && <Group gap="sm">{actions}</Group>}
    </Group>
  );
}

/** An error as an alert people can read (screen readers announce it). */
export function ErrorAlert({ error, title = 'Something went wrong', onRetry }: { error: unknown; title?: string; onRetry?: () => void }) {
  if (!error) return null;
  return (
    <Alert color="red" title={title} role="alert" variant="light">
      <Stack gap="xs" align="flex-start">
        <Text size="sm">{typeof error === 'string' ? error : describeGraphQLError(error)}</Text>
        {onRetry && (
          <Button size="xs" variant="default" onClick={onRetry}>
            Try again
          </Button>
        )}
      </Stack>
    </Alert>
  );
}

/** An empty list's message, with what to do next. */
export function EmptyState({ title, children, action }: { title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <Paper withBorder p="xl" radius="md">
      <Stack align="center" gap="xs">
        <Text fw={600}>{title}</Text>
        {children && (
          <Text c="dimmed" size="sm" ta="center">
            {children}
          </Text>
        )}
        {action}
      </Stack>
    </Paper>
  );
}

/**
 * The three states of data a page reads: a loader while it loads (the first time), an error with a
 * retry, the empty state when `isEmpty` says so, and else the children.
 */
export function QueryState<T>({
  state,
  isEmpty,
  empty,
  children,
  loadingLabel,
}: {
  state: { data: T | undefined; error: unknown; loading: boolean; refetch?: () => unknown };
  isEmpty?: (data: T) => boolean;
  empty?: ReactNode;
  loadingLabel?: string;
  children: (data: T) => ReactNode;
}) {
  if (state.error) return <ErrorAlert error={state.error} onRetry={state.refetch ? () => void state.refetch!() : undefined} />;
  if (state.data === undefined) return <PageLoader label={loadingLabel} />;
  if (isEmpty?.(state.data)) return <>{empty}</>;
  return <>{children(state.data)}</>;
}
