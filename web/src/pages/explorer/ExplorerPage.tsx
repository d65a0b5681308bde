/**
 * The API explorer of one app (/apps/:appKey/explorer): GraphiQL against /graphql with the app's
 * sandbox token (issued for the signed-in developer, kept in memory), an app picker, and beside the
 * editor the apiCatalog: which scopes each field of the query needs and whether the app holds them
 * (the scopes as the gateway sees the sandbox token). `?query=` and `?variables=` open the editor on a document (the
 * reference's "Run it in the explorer").
 */
import { Alert, Anchor, Box, Grid, Group, Select, Stack, Text, Title } from '@mantine/core';
import { lazy, Suspense, useEffect, useState } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { describeGraphQLError, ErrorAlert, graphql, PageLoader, useDocumentTitle, useOperation } from '../../lib';
import { APPS } from '../apps/operations';
import { CatalogPanel } from './CatalogPanel';
import { API_CATALOG_FIELDS, DEFAULT_QUERY, EXPLORER_APP, TOKEN_SCOPES, type ScopeHolding } from './operations';
import { useSandboxToken } from './sandbox-token';

const SandboxGraphiQL = lazy(() => import('./SandboxGraphiQL'));

/** The scopes the sandbox token holds, asked with it (a small query: a few dozen cost points). */
function useTokenScopes(accessToken: string | undefined) {
  const [scopes, setScopes] = useState<ScopeHolding[]>();
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    if (!accessToken) return;
    let current = true;
    graphql(TOKEN_SCOPES, undefined, { accessToken }).then(
      (data) => current && (setScopes(data.apiCatalog.scopes), setError(undefined)),
      (failure: unknown) => current && setError(failure),
    );
    return () => {
      current = false;
    };
  }, [accessToken]);
  return { scopes, error };
}

const timeOf = (iso: string) => new Date(iso).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });

export default function ExplorerPage() {
  useDocumentTitle('API explorer');
  const { appKey = '' } = useParams();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const apps = useOperation(APPS);
  const explored = useOperation(EXPLORER_APP, { key: appKey });
  const sandbox = useSandboxToken(appKey);
  const fields = useOperation(API_CATALOG_FIELDS);
  const tokenScopes = useTokenScopes(sandbox.token?.accessToken);
  const catalogError = fields.error ?? tokenScopes.error;
  const [inQuery, setInQuery] = useState<string[]>([]);
  const appList = apps.data?.viewerDeveloper?.apps ?? [];
  const app = explored.data?.developerApp;
  const merchant = app?.sandbox.merchantName ? `its sandbox merchant, ${app.sandbox.merchantName}` : 'its sandbox merchant';

  return (
    <Stack gap="md">
      <Group justify="space-between" align="flex-end" wrap="wrap">
        <Stack gap={2}>
          <Title order={2} size="h3">
            API explorer
          </Title>
          <Text size="sm" c="dimmed">
            {sandbox.token
              ? `Queries run as this app for ${merchant}, with a sandbox token valid until ${timeOf(sandbox.token.expiresAt)} (renewed as needed, kept only in this page).`
              : `Queries run as this app for ${merchant}.`}
          </Text>
        </Stack>
        <Select
          label="App"
          data={appList.map((a) => ({ value: a.key, label: a.name }))}
          value={appKey}
          onChange={(key) => key && key !== appKey && navigate(`/apps/${encodeURIComponent(key)}/explorer`)}
          allowDeselect={false}
          disabled={!appList.length}
          w={260}
        />
      </Group>

      {sandbox.error ? (
        <Alert color="orange" title="No sandbox token" role="alert" variant="light">
          <Stack gap={4} align="flex-start">
            <Text size="sm">{describeGraphQLError(sandbox.error)}</Text>
            <Text size="sm">
              The explorer needs the app&apos;s sandbox: see the{' '}
              <Anchor component={Link} to={`/apps/${encodeURIComponent(appKey)}/sandbox`}>
                Sandbox tab
              </Anchor>
              , then{' '}
              <Anchor component="button" type="button" onClick={sandbox.retry} inherit>
                try again
              </Anchor>
              .
            </Text>
          </Stack>
        </Alert>
      ) : !sandbox.token ? (
        <PageLoader label="Issuing a sandbox token" />
      ) : (
        <Grid gap="md">
          <Grid.Col span={{ base: 12, xl: 8 }}>
            <Box h="max(520px, calc(100vh - 260px))" style={{ border: '1px solid var(--mantine-color-gray-3)', borderRadius: 'var(--mantine-radius-md)', overflow: 'hidden' }} data-testid="graphiql">
              <Suspense fallback={<PageLoader label="Loading the editor" />}>
                <SandboxGraphiQL
                  key={appKey}
                  appName={app?.name ?? appKey}
                  accessToken={sandbox.current}
                  initialQuery={params.get('query') ?? DEFAULT_QUERY}
                  {...(params.get('variables') ? { initialVariables: params.get('variables')! } : {})}
                  onCoordinates={setInQuery}
                />
              </Suspense>
            </Box>
          </Grid.Col>
          <Grid.Col span={{ base: 12, xl: 4 }}>
            {catalogError ? (
              <ErrorAlert error={catalogError} title="The API catalog could not be loaded" />
            ) : fields.data && tokenScopes.scopes ? (
              <CatalogPanel fields={fields.data.apiCatalog.fields} scopes={tokenScopes.scopes} inQuery={inQuery} />
            ) : (
              <PageLoader label="Loading the API catalog" />
            )}
          </Grid.Col>
        </Grid>
      )}
    </Stack>
  );
}
