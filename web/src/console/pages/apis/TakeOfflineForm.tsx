/**
 * Taking an API offline: one field of the API (a schema coordinate picked from the catalog, searchable),
 * for every app or the ones picked, with a reason callers read, now or in a window (from, until).
 */
import { Button, Code, Group, MultiSelect, Paper, Radio, Select, SimpleGrid, Stack, Text, Textarea, TextInput, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useMemo, useRef, useState } from 'react';
import { ErrorAlert, useMutation, useOperation } from '../../../lib';
import { fromLocalInput } from '../ops-common/time';
import { APP_CHOICES, TAKE_API_OFFLINE, type ApiField } from './operations';

function AppsPicker({ value, onChange }: { value: string[]; onChange: (keys: string[]) => void }) {
  const [search, setSearch] = useState('');
  const [debounced] = useDebouncedValue(search, 250);
  const found = useOperation(APP_CHOICES, { search: debounced.trim() || null });
  // Labels of the apps picked so far, so they stay shown while another search runs.
  const labels = useRef(new Map<string, string>());
  for (const app of found.data?.apps.nodes ?? []) labels.current.set(app.key, `${app.name} (${app.key}) · ${app.developer.name}`);
  const keys = new Set([...value, ...(found.data?.apps.nodes ?? []).map((a) => a.key)]);
  return (
    <MultiSelect
      label="Apps"
      description="Only these apps get API_OFFLINE; the others keep the field."
      placeholder="Search by key, name or developer"
      searchable
      filter={({ options }) => options}
      searchValue={search}
      onSearchChange={setSearch}
      data={[...keys].map((key) => ({ value: key, label: labels.current.get(key) ?? key }))}
      value={value}
      onChange={onChange}
      nothingFoundMessage={found.loading ? 'Searching…' : 'No app matches'}
      required
    />
  );
}

export function TakeOfflineForm({ fields, onTaken }: { fields: ApiField[]; onTaken: () => void }) {
  const [coordinate, setCoordinate] = useState<string | null>(null);
  const [scope, setScope] = useState<'ALL' | 'SOME'>('ALL');
  const [appKeys, setAppKeys] = useState<string[]>([]);
  const [reason, setReason] = useState('');
  const [from, setFrom] = useState('');
  const [until, setUntil] = useState('');
  const take = useMutation(TAKE_API_OFFLINE);
  const options = useMemo(() => fields.map((f) => f.coordinate).sort(), [fields]);
  const field = fields.find((f) => f.coordinate === coordinate);
  const startsAt = fromLocalInput(from);
  const endsAt = fromLocalInput(until);
  const windowError = startsAt && endsAt && endsAt <= startsAt ? 'Until must be after From' : undefined;
  const ready = !!coordinate && !!reason.trim() && (scope === 'ALL' || appKeys.length > 0) && !windowError;

  return (
    <Paper withBorder radius="md" p="lg" component="section" aria-labelledby="take-offline-title">
      <form
        aria-labelledby="take-offline-title"
        onSubmit={async (event) => {
          event.preventDefault();
          if (!ready || !coordinate) return;
          const taken = await take.run({
            input: { coordinate, reason: reason.trim(), ...(scope === 'SOME' ? { appKeys } : {}), ...(startsAt ? { startsAt } : {}), ...(endsAt ? { endsAt } : {}) },
          });
          if (taken) {
            setCoordinate(null);
            setAppKeys([]);
            setReason('');
            setFrom('');
            setUntil('');
            onTaken();
          }
        }}
      >
        <Stack>
          <Title order={2} size="h4" id="take-offline-title">
            Take an API offline
          </Title>
          <Select
            label="Coordinate"
            description="A field of the API, as Type.field. Within seconds every gateway answers it null with API_OFFLINE and asks no service for it."
            placeholder="Search the schema, for example Mutation.cancelOrder"
            searchable
            limit={50}
            data={options}
            value={coordinate}
            onChange={setCoordinate}
            nothingFoundMessage="No field of the API matches"
            required
          />
          {field && (
            <Text size="xs" c="dimmed" data-testid="coordinate-details">
              {field.description ?? 'No description.'}{' '}
              {field.requiredScopes.length > 0 && (
                <>
                  Needs {field.requiredScopes.map((all, i) => (
                    <span key={i}>
                      {i > 0 && ' or '}
                      {all.map((s) => (
                        <Code key={s} fz="xs">
                          {s}
                        </Code>
                      ))}
                    </span>
                  ))}
                  .
                </>
              )}
            </Text>
          )}
          <Radio.Group label="For" value={scope} onChange={(value) => setScope(value as 'ALL' | 'SOME')}>
            <Group mt={4}>
              <Radio value="ALL" label="Every app" />
              <Radio value="SOME" label="Some apps" />
            </Group>
          </Radio.Group>
          {scope === 'SOME' && <AppsPicker value={appKeys} onChange={setAppKeys} />}
          <Textarea
            label="Reason"
            description="Callers read it in the API_OFFLINE error and in the API catalog; the audit log keeps it."
            required
            autosize
            minRows={2}
            value={reason}
            onChange={(e) => setReason(e.currentTarget.value)}
          />
          <SimpleGrid cols={{ base: 1, sm: 2 }} maw={560}>
            <TextInput type="datetime-local" label="From" description="Empty: now. Your local time." value={from} onChange={(e) => setFrom(e.currentTarget.value)} />
            <TextInput type="datetime-local" label="Until" description="Empty: until brought back." value={until} onChange={(e) => setUntil(e.currentTarget.value)} error={windowError} />
          </SimpleGrid>
          <ErrorAlert error={take.error} title="Not taken offline" />
          <Group>
            <Button type="submit" color="red.9" loading={take.loading} disabled={!ready}>
              Take offline
            </Button>
          </Group>
        </Stack>
      </form>
    </Paper>
  );
}
