/**
 * An app's status and violations: Suspend (every call refused with APP_SUSPENDED within seconds) or
 * Reinstate; record a violation with its penalty (a warning, a cut of its flow limits, or a
 * suspension); lift a flow-limit penalty early.
 */
import { Alert, Badge, Button, Card, Group, NumberInput, Select, Stack, Table, Text, Textarea, TextInput, Title, VisuallyHidden } from '@mantine/core';
import { useState } from 'react';
import { formatDateTime } from '../../../../lib/format';
import { EmptyState, QueryState } from '../../../../lib/layout';
import { useMutation, useOperation } from '../../../../lib/use-operation';
import { ReasonDialog } from '../../../components/ReasonDialog';
import { APP_ACTIONS, LIFT_PENALTY, RECORD_VIOLATION, REINSTATE_APP, SET_APP_STATUS, type AppViolation, type ViolationPenalty } from '../../../operations';
import { useAppTab } from '../AppPage';

const PENALTIES: { value: ViolationPenalty; label: string }[] = [
  { value: 'WARNING', label: 'Warning (no penalty beyond the record)' },
  { value: 'FLOW_LIMIT_REDUCTION', label: 'Cut its flow limits' },
  { value: 'SUSPENSION', label: 'Suspend the app' },
];

/** A datetime-local field's value (the operator's local time) as ISO-8601 UTC, or undefined. */
const localToIso = (value: string) => (value ? new Date(value).toISOString() : undefined);

function ViolationDialog({ appKey, onClose, onDone }: { appKey: string; onClose: () => void; onDone: () => Promise<void> }) {
  const record = useMutation(RECORD_VIOLATION);
  const [kind, setKind] = useState('');
  const [penalty, setPenalty] = useState<ViolationPenalty>('WARNING');
  const [percent, setPercent] = useState<number | string>(50);
  const [endsAt, setEndsAt] = useState('');
  const [evidence, setEvidence] = useState('');
  const reduction = penalty === 'FLOW_LIMIT_REDUCTION';
  return (
    <ReasonDialog
      opened
      title="Record a violation"
      description="The app reads the violation (without your name) in viewerApp.violations."
      reasonLabel="Reason"
      reasonHint="What happened: recorded with the violation and in the audit log."
      ready={Boolean(kind.trim()) && (!reduction || (typeof percent === 'number' && percent >= 1 && percent <= 99))}
      error={record.error}
      onClose={onClose}
      onConfirm={async (note) => {
        const done = await record.run({
          input: {
            appKey,
            kind: kind.trim(),
            note,
            penalty,
            ...(evidence.trim() ? { evidence: evidence.trim() } : {}),
            ...(reduction ? { flowLimitPercent: Number(percent), ...(endsAt ? { penaltyEndsAt: localToIso(endsAt) } : {}) } : {}),
          },
        });
        if (done) await onDone();
        return Boolean(done);
      }}
    >
      <TextInput label="Kind" description="For example scraping or abusive-traffic." required value={kind} onChange={(e) => setKind(e.currentTarget.value)} />
      <Select label="Penalty" data={PENALTIES} value={penalty} onChange={(value) => value && setPenalty(value as ViolationPenalty)} allowDeselect={false} />
      {reduction && (
        <Group grow align="flex-start">
          <NumberInput label="Flow limits left (%)" min={1} max={99} value={percent} onChange={setPercent} required />
          <TextInput label="Until" description="Empty: until lifted." type="datetime-local" value={endsAt} onChange={(e) => setEndsAt(e.currentTarget.value)} />
        </Group>
      )}
      {penalty === 'SUSPENSION' && (
        <Alert color="red" variant="light">
          The app is suspended at once: every call and open subscription is refused until an operator reinstates it.
        </Alert>
      )}
      <Textarea label="Evidence" description="Log excerpts, request ids, links (optional)." autosize minRows={2} value={evidence} onChange={(e) => setEvidence(e.currentTarget.value)} />
    </ReasonDialog>
  );
}

function PenaltyCell({ violation }: { violation: AppViolation }) {
  return (
    <Stack gap={2}>
      <Group gap={4}>
        <Badge variant="light" color={violation.penalty === 'WARNING' ? 'gray' : 'red'}>
          {violation.penalty}
        </Badge>
        {violation.penaltyActive && (
          <Badge color="red" variant="outline" size="sm">
            Active
          </Badge>
        )}
      </Group>
      {violation.flowLimitPercent !== null && (
        <Text size="xs" c="dimmed">
          {violation.flowLimitPercent} % of its limits{violation.penaltyEndsAt ? ` until ${formatDateTime(violation.penaltyEndsAt)}` : ''}
        </Text>
      )}
    </Stack>
  );
}

export default function ActionsTab() {
  const { app, refreshApp } = useAppTab();
  const state = useOperation(APP_ACTIONS, { key: app.key });
  const suspend = useMutation(SET_APP_STATUS);
  const reinstate = useMutation(REINSTATE_APP);
  const lift = useMutation(LIFT_PENALTY);
  const [dialog, setDialog] = useState<{ kind: 'suspend' } | { kind: 'reinstate' } | { kind: 'violation' } | { kind: 'lift'; violation: AppViolation } | null>(null);
  const refresh = async () => {
    await Promise.all([state.refetch(), refreshApp()]);
  };
  const status = state.data?.app?.status ?? app.status;

  return (
    <Stack gap="xl">
      <Card withBorder padding="lg" component="section" aria-labelledby="app-status-actions">
        <Title order={2} size="h4" id="app-status-actions" mb="xs">
          Status
        </Title>
        {status === 'SUSPENDED' ? (
          <Group justify="space-between" wrap="wrap">
            <Text size="sm">Suspended: every call of the app is refused. Reinstating returns it to the status the suspension replaced.</Text>
            <Button
              onClick={() => {
                reinstate.reset();
                setDialog({ kind: 'reinstate' });
              }}
            >
              Reinstate
            </Button>
          </Group>
        ) : (
          <Group justify="space-between" wrap="wrap">
            <Text size="sm">Suspending refuses every call and open subscription of the app with APP_SUSPENDED within seconds.</Text>
            <Button
              color="red.9"
              onClick={() => {
                suspend.reset();
                setDialog({ kind: 'suspend' });
              }}
            >
              Suspend
            </Button>
          </Group>
        )}
      </Card>

      <section aria-labelledby="app-violations">
        <Group justify="space-between" mb="sm">
          <Title order={2} size="h4" id="app-violations">
            Violations
          </Title>
          <Button variant="default" onClick={() => setDialog({ kind: 'violation' })}>
            Record a violation
          </Button>
        </Group>
        <QueryState state={state} loadingLabel="Loading violations" isEmpty={(data) => !data.app?.violations.length} empty={<EmptyState title="No violations recorded" />}>
          {(data) => (
            <Table.ScrollContainer minWidth={720}>
              <Table striped>
                <Table.Caption>Violations recorded against the app, newest first</Table.Caption>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Recorded</Table.Th>
                    <Table.Th>Kind</Table.Th>
                    <Table.Th>What happened</Table.Th>
                    <Table.Th>Penalty</Table.Th>
                    <Table.Th>
                      <VisuallyHidden>Actions</VisuallyHidden>
                    </Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {data.app!.violations.map((violation) => (
                    <Table.Tr key={violation.id}>
                      <Table.Td>
                        {formatDateTime(violation.recordedAt)}
                        <Text size="xs" c="dimmed" ff="monospace">
                          {violation.recordedBy ?? ''}
                        </Text>
                      </Table.Td>
                      <Table.Td>{violation.kind}</Table.Td>
                      <Table.Td>
                        <Text size="sm">{violation.note}</Text>
                        {violation.evidence && (
                          <Text size="xs" c="dimmed" style={{ whiteSpace: 'pre-wrap' }}>
                            {violation.evidence}
                          </Text>
                        )}
                      </Table.Td>
                      <Table.Td>
                        <PenaltyCell violation={violation} />
                      </Table.Td>
                      <Table.Td>
                        {violation.penaltyActive && violation.penalty === 'FLOW_LIMIT_REDUCTION' && (
                          <Button
                            size="xs"
                            variant="default"
                            onClick={() => {
                              lift.reset();
                              setDialog({ kind: 'lift', violation });
                            }}
                          >
                            Lift penalty
                          </Button>
                        )}
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )}
        </QueryState>
      </section>

      {dialog?.kind === 'suspend' && (
        <ReasonDialog
          opened
          title={`Suspend ${app.name}`}
          description="Every call and open subscription of the app is refused with APP_SUSPENDED within seconds, until an operator reinstates it."
          confirmColor="red.9"
          error={suspend.error}
          onClose={() => setDialog(null)}
          onConfirm={async (reason) => {
            const done = await suspend.run({ input: { appKey: app.key, status: 'SUSPENDED', reason } });
            if (done) await refresh();
            return Boolean(done);
          }}
        />
      )}
      {dialog?.kind === 'reinstate' && (
        <ReasonDialog
          opened
          title={`Reinstate ${app.name}`}
          description="The app returns to the status the suspension replaced (SANDBOX or LIVE)."
          error={reinstate.error}
          onClose={() => setDialog(null)}
          onConfirm={async (reason) => {
            const done = await reinstate.run({ input: { appKey: app.key, reason } });
            if (done) await refresh();
            return Boolean(done);
          }}
        />
      )}
      {dialog?.kind === 'violation' && <ViolationDialog appKey={app.key} onClose={() => setDialog(null)} onDone={refresh} />}
      {dialog?.kind === 'lift' && (
        <ReasonDialog
          opened
          title="Lift the penalty"
          description={`The app's flow limits are whole again now (the ${dialog.violation.kind} violation stays on record).`}
          error={lift.error}
          onClose={() => setDialog(null)}
          onConfirm={async (reason) => {
            const done = await lift.run({ input: { violationId: dialog.violation.id, reason } });
            if (done) await refresh();
            return Boolean(done);
          }}
        />
      )}
    </Stack>
  );
}
