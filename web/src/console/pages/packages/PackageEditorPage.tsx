/**
 * A permission package's editor (/packages/new, /packages/:packageId): name, description, tier, and
 * the scopes it bundles, chosen from the catalog with the fields of the API each scope opens shown
 * beside it. A change to a package applies to every app holding it at once, so it asks for a reason
 * (the audit log keeps it).
 */
import { Alert, Button, Checkbox, Code, Fieldset, Group, SegmentedControl, Spoiler, Stack, Table, Text, Textarea, TextInput } from '@mantine/core';
import { useMemo, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { EmptyState, ErrorAlert, PageHeader, QueryState, useMutation, useOperation } from '../../../lib';
import { fieldsByScope } from './catalog';
import { CREATE_PACKAGE, PACKAGES, UPDATE_PACKAGE, type CatalogField, type PackageTier, type PermissionPackage, type Scope } from './operations';

interface Draft {
  name: string;
  description: string;
  tier: PackageTier;
  scopes: string[];
}

function ScopePicker({ scopes, fields, value, onChange }: { scopes: Scope[]; fields: CatalogField[]; value: string[]; onChange: (scopes: string[]) => void }) {
  const opens = useMemo(() => fieldsByScope(fields), [fields]);
  const chosen = new Set(value);
  return (
    <Fieldset legend="Scopes" variant="unstyled">
      <Text size="sm" c="dimmed" mb="xs">
        An app holding the package may use these scopes (within what a merchant consents to). Beside each, the fields of the API it opens.
      </Text>
      <Table.ScrollContainer minWidth={640}>
        <Table verticalSpacing="xs" aria-label="Scopes and the fields they open">
          <Table.Thead>
            <Table.Tr>
              <Table.Th w="40%">Scope</Table.Th>
              <Table.Th>Fields it opens</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {scopes.map((scope) => {
              const coordinates = opens.get(scope.name) ?? [];
              return (
                <Table.Tr key={scope.name} data-testid="scope-option">
                  <Table.Td valign="top">
                    <Checkbox
                      label={<Code>{scope.name}</Code>}
                      description={scope.description}
                      checked={chosen.has(scope.name)}
                      onChange={(event) => onChange(event.currentTarget.checked ? [...value, scope.name] : value.filter((name) => name !== scope.name))}
                    />
                  </Table.Td>
                  <Table.Td valign="top">
                    {coordinates.length === 0 ? (
                      <Text size="xs" c="dimmed">
                        No field names it (it may open message topics or reports).
                      </Text>
                    ) : (
                      <Spoiler maxHeight={52} showLabel={`All ${coordinates.length} fields`} hideLabel="Fewer fields">
                        <Group gap={4}>
                          {coordinates.map((coordinate) => (
                            <Code key={coordinate} fz="xs">
                              {coordinate}
                            </Code>
                          ))}
                        </Group>
                      </Spoiler>
                    )}
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Fieldset>
  );
}

function PackageForm({ existing, scopes, fields, onSaved }: { existing: PermissionPackage | undefined; scopes: Scope[]; fields: CatalogField[]; onSaved: () => void }) {
  const [draft, setDraft] = useState<Draft>(() =>
    existing ? { name: existing.name, description: existing.description, tier: existing.tier, scopes: existing.scopes.map((s) => s.name) } : { name: '', description: '', tier: 'FREE', scopes: [] },
  );
  const [reason, setReason] = useState('');
  const create = useMutation(CREATE_PACKAGE);
  const update = useMutation(UPDATE_PACKAGE);
  const saving = create.loading || update.loading;
  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setDraft((previous) => ({ ...previous, [key]: value }));

  return (
    <form
      aria-label={existing ? `Edit ${existing.name}` : 'New package'}
      onSubmit={async (event) => {
        event.preventDefault();
        const input = { name: draft.name.trim(), description: draft.description.trim(), tier: draft.tier, scopes: draft.scopes };
        const saved = existing ? await update.run({ input: { id: existing.id, ...input, reason: reason.trim() } }) : await create.run({ input });
        if (saved) onSaved();
      }}
    >
      <Stack maw={960}>
        <TextInput label="Name" required maxLength={100} value={draft.name} onChange={(e) => set('name', e.currentTarget.value)} />
        <Textarea label="Description" description="What the package is for: developers read it in the portal's catalog." required autosize minRows={2} value={draft.description} onChange={(e) => set('description', e.currentTarget.value)} />
        <Stack gap={4}>
          <Text size="sm" fw={500} id="tier-label">
            Tier
          </Text>
          <SegmentedControl
            aria-labelledby="tier-label"
            w="fit-content"
            value={draft.tier}
            onChange={(value) => set('tier', value as PackageTier)}
            data={[
              { value: 'FREE', label: 'Free' },
              { value: 'PAID', label: 'Paid' },
            ]}
          />
          <Text size="xs" c="dimmed">
            An app holding any paid package has the paid tier&apos;s flow limits and daily quota.
          </Text>
        </Stack>
        <ScopePicker scopes={scopes} fields={fields} value={draft.scopes} onChange={(value) => set('scopes', value)} />
        {existing && (
          <>
            <Alert color="yellow" variant="light" title="Applies at once">
              Every app holding {existing.name} gains or loses scopes with this change, before any token expires.
            </Alert>
            <Textarea label="Reason" description="Recorded in the audit log with your name and the time." required autosize minRows={2} value={reason} onChange={(e) => setReason(e.currentTarget.value)} />
          </>
        )}
        <ErrorAlert error={create.error ?? update.error} title="Not saved" />
        <Group>
          <Button type="submit" loading={saving} disabled={!draft.name.trim() || !draft.description.trim() || draft.scopes.length === 0 || (!!existing && !reason.trim())}>
            {existing ? 'Save changes' : 'Create package'}
          </Button>
          <Button component={Link} to="/packages" variant="default">
            Cancel
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

export default function PackageEditorPage() {
  const { packageId } = useParams();
  const navigate = useNavigate();
  const catalog = useOperation(PACKAGES);
  const existing = catalog.data?.permissionPackages.find((pkg) => pkg.id === packageId);
  return (
    <>
      <PageHeader title={packageId ? (existing ? `Edit ${existing.name}` : 'Edit package') : 'New permission package'} />
      <QueryState state={catalog} loadingLabel="Loading the catalog">
        {(data) =>
          packageId && !existing ? (
            <EmptyState title="Package not found" action={<Button component={Link} to="/packages" variant="light">All packages</Button>}>
              No package has this id.
            </EmptyState>
          ) : (
            <PackageForm key={existing?.updatedAt ?? 'new'} existing={existing} scopes={data.scopes} fields={data.apiCatalog.fields} onSaved={() => navigate('/packages')} />
          )
        }
      </QueryState>
    </>
  );
}
