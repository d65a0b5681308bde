/**
 * The API reference, generated from schema/supergraph.graphql at build time (web/plugins/reference.ts):
 * every type and field with what it needs, costs and an example, browsable by type and searchable.
 * Public: it holds nothing of anyone's. The search is in the address (?q=), so a result can be shared.
 */
import { Grid, NavLink, Paper, ScrollArea, Stack, Text, TextInput } from '@mantine/core';
import { useDeferredValue, useEffect, useMemo, useState } from 'react';
import { Link, useLocation, useParams, useSearchParams } from 'react-router';
import { EmptyState, ErrorAlert, PageHeader, PageLoader } from '../../lib';
import { loadReference, type ApiReference, type ReferenceType } from './load-reference';
import { searchReference } from './search';
import { ScopesView } from './ScopesView';
import { kindLabel, TypeView } from './TypeView';

/** The overview of scopes, at /reference/scopes (no type's name is lowercase). */
const SCOPES_PAGE = 'scopes';
const GROUP_ORDER = ['Operations', 'Object', 'Interface', 'Union', 'Enum', 'Input', 'Scalar'];
const GROUP_TITLES: Record<string, string> = { Operations: 'Operations', Object: 'Objects', Interface: 'Interfaces', Union: 'Unions', Enum: 'Enums', Input: 'Inputs', Scalar: 'Scalars' };

function useReference() {
  const [reference, setReference] = useState<ApiReference>();
  const [error, setError] = useState<unknown>();
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let current = true;
    loadReference().then(
      (loaded) => current && setReference(loaded),
      (failure: unknown) => current && setError(failure),
    );
    return () => {
      current = false;
    };
  }, [attempt]);
  return { reference, error, retry: () => (setError(undefined), setAttempt((n) => n + 1)) };
}

function TypeList({ reference, selected }: { reference: ApiReference; selected: string }) {
  const groups = useMemo(() => {
    const byGroup = new Map<string, ReferenceType[]>();
    for (const type of reference.types) byGroup.set(kindLabel(type), [...(byGroup.get(kindLabel(type)) ?? []), type]);
    return GROUP_ORDER.filter((g) => byGroup.has(g)).map((g) => [g, byGroup.get(g)!] as const);
  }, [reference]);
  return (
    <nav aria-label="Types">
      <NavLink component={Link} to={`/reference/${SCOPES_PAGE}`} label="Scopes" active={selected === SCOPES_PAGE} aria-current={selected === SCOPES_PAGE ? 'page' : undefined} mb="xs" />
      {groups.map(([group, types]) => (
        <Stack key={group} gap={0} mb="sm">
          <Text size="xs" fw={700} c="dimmed" tt="uppercase" px="sm" py={4} component="h2">
            {GROUP_TITLES[group]}
          </Text>
          {types.map((type) => (
            <NavLink key={type.name} component={Link} to={`/reference/${type.name}`} label={type.name} active={type.name === selected} aria-current={type.name === selected ? 'page' : undefined} py={2} ff="monospace" />
          ))}
        </Stack>
      ))}
    </nav>
  );
}

function SearchResults({ reference, text }: { reference: ApiReference; text: string }) {
  const hits = useMemo(() => searchReference(reference, text), [reference, text]);
  if (!hits.length) return <Text size="sm" c="dimmed" px="sm" role="status">Nothing matches “{text}”.</Text>;
  return (
    <nav aria-label="Search results">
      <Text size="xs" c="dimmed" px="sm" role="status">
        {hits.length === 60 ? 'The first 60 matches' : `${hits.length} match${hits.length === 1 ? '' : 'es'}`}
      </Text>
      {hits.map((hit) =>
        hit.kind === 'type' ? (
          <NavLink key={hit.type.name} component={Link} to={`/reference/${hit.type.name}`} label={<Text inherit ff="monospace">{hit.type.name}</Text>} description={kindLabel(hit.type)} />
        ) : (
          <NavLink
            key={hit.field.coordinate}
            component={Link}
            to={`/reference/${hit.type.name}#field-${hit.field.name}`}
            label={<Text inherit ff="monospace">{hit.field.coordinate}</Text>}
            description={hit.field.description?.split('\n')[0]}
          />
        ),
      )}
    </nav>
  );
}

export default function ReferencePage() {
  const { typeName } = useParams();
  const location = useLocation();
  const [params, setParams] = useSearchParams();
  const search = params.get('q') ?? '';
  const deferredSearch = useDeferredValue(search);
  const { reference, error, retry } = useReference();

  const known = useMemo(() => new Set(reference?.types.map((t) => t.name)), [reference]);
  const descriptions = useMemo(() => new Map(reference?.scopes.map((s) => [s.name, s.description])), [reference]);
  const selected = reference?.types.find((t) => t.name === (typeName ?? 'Query'));

  // Bring the field the address names (#field-name) into view once its type is shown.
  useEffect(() => {
    if (!selected || !location.hash) return;
    document.getElementById(decodeURIComponent(location.hash.slice(1)))?.scrollIntoView({ block: 'start' });
  }, [selected, location.hash]);

  return (
    <>
      <PageHeader title="API reference" description="Every type and field of the public API, with the scopes it needs, what it costs and an example: generated from the schema the gateway serves." />
      {error ? (
        <ErrorAlert error="The reference could not be loaded. Check your connection and try again." onRetry={retry} />
      ) : !reference ? (
        <PageLoader label="Loading the reference" />
      ) : (
        <Grid gap="lg">
          <Grid.Col span={{ base: 12, md: 4, lg: 3 }}>
            <Paper withBorder radius="md" p="xs">
              <TextInput
                label="Search the reference"
                placeholder="orders, Order.status, orders:read_pii"
                type="search"
                value={search}
                onChange={(event) => {
                  const value = event.currentTarget.value;
                  setParams((current) => {
                    const next = new URLSearchParams(current);
                    if (value) next.set('q', value);
                    else next.delete('q');
                    return next;
                  }, { replace: true });
                }}
                mb="xs"
              />
              <ScrollArea.Autosize mah="calc(100vh - 220px)" type="auto" scrollbars="y">
                {deferredSearch.trim() ? <SearchResults reference={reference} text={deferredSearch} /> : <TypeList reference={reference} selected={typeName === SCOPES_PAGE ? SCOPES_PAGE : (selected?.name ?? '')} />}
              </ScrollArea.Autosize>
            </Paper>
          </Grid.Col>
          <Grid.Col span={{ base: 12, md: 8, lg: 9 }}>
            {typeName === SCOPES_PAGE ? (
              <ScopesView reference={reference} />
            ) : selected ? (
              <TypeView type={selected} known={known} descriptions={descriptions} />
            ) : (
              <EmptyState title={`No type named ${typeName}`}>It is not part of the public API. Pick a type from the list, or search.</EmptyState>
            )}
          </Grid.Col>
        </Grid>
      )}
    </>
  );
}
