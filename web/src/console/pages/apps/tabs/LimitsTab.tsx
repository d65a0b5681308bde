/**
 * An app's limits and keys: its flow limits and quota in force now beside its tier's numbers, the
 * operator's overrides (setAppFlowLimits: a number replaces the tier's, an empty field clears it),
 * whether its unsigned calls are refused (setAppSignatureRequired), and a new message encryption key
 * (rotateMessageKey).
 */
import { Alert, Button, Card, Group, NumberInput, SimpleGrid, Stack, Switch, Table, Text, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import { formatDateTime, formatNumber } from '../../../../lib/format';
import { EmptyState, QueryState } from '../../../../lib/layout';
import { useMutation, useOperation } from '../../../../lib/use-operation';
import { ReasonDialog } from '../../../components/ReasonDialog';
import { APP_LIMITS, ROTATE_MESSAGE_KEY, SET_FLOW_LIMITS, SET_SIGNATURE_REQUIRED, type AppLimits, type TierLimits } from '../../../operations';
import { useAppTab } from '../AppPage';
import { Stat } from '../../../components/Field';

type Override = number | string;
const asOverride = (value: Override): number | null => (typeof value === 'number' ? value : value.trim() === '' ? null : Number(value));

function LimitsView({ app, tiers, refetch }: { app: AppLimits; tiers: TierLimits[]; refetch: () => Promise<void> }) {
  const setLimits = useMutation(SET_FLOW_LIMITS);
  const setSignature = useMutation(SET_SIGNATURE_REQUIRED);
  const rotate = useMutation(ROTATE_MESSAGE_KEY);
  const overrides = app.flowLimitOverrides;
  const [bucketSize, setBucketSize] = useState<Override>(overrides.bucketSize ?? '');
  const [restoreRate, setRestoreRate] = useState<Override>(overrides.restoreRate ?? '');
  const [dailyQuota, setDailyQuota] = useState<Override>(overrides.dailyQuota ?? '');
  useEffect(() => {
    setBucketSize(overrides.bucketSize ?? '');
    setRestoreRate(overrides.restoreRate ?? '');
    setDailyQuota(overrides.dailyQuota ?? '');
  }, [overrides.bucketSize, overrides.restoreRate, overrides.dailyQuota]);
  const [dialog, setDialog] = useState<'limits' | 'signature' | 'rotate' | null>(null);
  const [rotated, setRotated] = useState<number | null>(null);
  const usage = app.usage;
  const tier = tiers.find((t) => t.tier === usage.tier);

  return (
    <Stack gap="xl">
      <Card withBorder padding="lg" component="section" aria-labelledby="limits-now">
        <Title order={2} size="h4" id="limits-now" mb="md">
          In force now ({usage.tier} tier)
        </Title>
        <SimpleGrid cols={{ base: 2, sm: 4 }}>
          <Stat label="Bucket size" value={formatNumber(usage.bucketSize)} />
          <Stat label="Restore rate / s" value={formatNumber(usage.restoreRate)} />
          <Stat label="Daily quota" value={formatNumber(usage.dailyQuota)} />
          <Stat label="Calls today" value={formatNumber(usage.callsToday)} />
        </SimpleGrid>
        {usage.flowLimitPercent !== null && (
          <Alert color="orange" variant="light" mt="md">
            A violation's penalty leaves it {usage.flowLimitPercent} % of its flow limits (the numbers above are already cut).
          </Alert>
        )}
        <Text size="xs" c="dimmed" mt="sm">
          The daily count starts again {formatDateTime(usage.resetsAt)}.
        </Text>
      </Card>

      <section aria-labelledby="limits-overrides">
        <Title order={2} size="h4" id="limits-overrides" mb="xs">
          Overrides
        </Title>
        <Text size="sm" c="dimmed" mb="md">
          A number replaces the tier's for this app; an empty field uses the tier's.
        </Text>
        <form
          onSubmit={(event) => {
            event.preventDefault();
            setLimits.reset();
            setDialog('limits');
          }}
        >
          <Group align="flex-end" wrap="wrap">
            <NumberInput label="Bucket size" description={`Tier: ${formatNumber(tier?.bucketSize)}`} min={1} max={1_000_000} value={bucketSize} onChange={setBucketSize} w={200} allowDecimal={false} />
            <NumberInput label="Restore rate per second" description={`Tier: ${formatNumber(tier?.restoreRate)}`} min={1} max={100_000} value={restoreRate} onChange={setRestoreRate} w={200} allowDecimal={false} />
            <NumberInput label="Daily quota" description={`Tier: ${formatNumber(tier?.dailyQuota)}`} min={1} max={1_000_000_000} value={dailyQuota} onChange={setDailyQuota} w={200} allowDecimal={false} thousandSeparator="," />
            <Button type="submit" variant="default">
              Save overrides
            </Button>
          </Group>
        </form>
        <Table mt="lg" withTableBorder>
          <Table.Caption>Every tier's numbers</Table.Caption>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Tier</Table.Th>
              <Table.Th>Bucket size</Table.Th>
              <Table.Th>Restore rate / s</Table.Th>
              <Table.Th>Daily quota</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {tiers.map((t) => (
              <Table.Tr key={t.tier}>
                <Table.Td>{t.tier}</Table.Td>
                <Table.Td>{formatNumber(t.bucketSize)}</Table.Td>
                <Table.Td>{formatNumber(t.restoreRate)}</Table.Td>
                <Table.Td>{formatNumber(t.dailyQuota)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </section>

      <Card withBorder padding="lg" component="section" aria-labelledby="limits-signature">
        <Title order={2} size="h4" id="limits-signature" mb="xs">
          Signed requests
        </Title>
        <Group justify="space-between" wrap="wrap">
          <Switch
            label="Refuse the app's unsigned calls"
            description={app.signingPublicKey ? 'It has an Ed25519 key registered.' : 'It has no Ed25519 key registered (hmac signatures need a current secret).'}
            checked={app.signatureRequired}
            onChange={() => {
              setSignature.reset();
              setDialog('signature');
            }}
          />
        </Group>
      </Card>

      <Card withBorder padding="lg" component="section" aria-labelledby="limits-message-key">
        <Title order={2} size="h4" id="limits-message-key" mb="xs">
          Message encryption key
        </Title>
        <Group justify="space-between" wrap="wrap">
          <Text size="sm">A new key encrypts the app's message records from now on; older records stay readable.</Text>
          <Button
            variant="default"
            onClick={() => {
              rotate.reset();
              setDialog('rotate');
            }}
          >
            Rotate the message key
          </Button>
        </Group>
        {rotated !== null && (
          <Alert color="teal" variant="light" mt="sm" role="status">
            Rotated: key version {rotated} encrypts new records.
          </Alert>
        )}
      </Card>

      {dialog === 'limits' && (
        <ReasonDialog
          opened
          title="Save the overrides"
          description="The app's gateways apply them within seconds."
          error={setLimits.error}
          onClose={() => setDialog(null)}
          onConfirm={async (reason) => {
            const done = await setLimits.run({ input: { appKey: app.key, bucketSize: asOverride(bucketSize), restoreRate: asOverride(restoreRate), dailyQuota: asOverride(dailyQuota), reason } });
            if (done) await refetch();
            return Boolean(done);
          }}
        />
      )}
      {dialog === 'signature' && (
        <ReasonDialog
          opened
          title={app.signatureRequired ? 'Stop requiring signed requests' : 'Require signed requests'}
          description={app.signatureRequired ? 'Unsigned calls of the app are accepted again.' : 'Every unsigned call of the app is refused with SIGNATURE_INVALID from now on.'}
          error={setSignature.error}
          onClose={() => setDialog(null)}
          onConfirm={async (reason) => {
            const done = await setSignature.run({ input: { appKey: app.key, required: !app.signatureRequired, reason } });
            if (done) await refetch();
            return Boolean(done);
          }}
        />
      )}
      {dialog === 'rotate' && (
        <ReasonDialog
          opened
          title="Rotate the message key"
          description="New message records of the app are encrypted with a new key; older records stay readable. The rotation is recorded in the audit log with your reason."
          error={rotate.error}
          onClose={() => setDialog(null)}
          onConfirm={async (reason) => {
            const done = await rotate.run({ appKey: app.key, reason });
            if (done) setRotated(done.rotateMessageKey.version);
            return Boolean(done);
          }}
        />
      )}
    </Stack>
  );
}

export default function LimitsTab() {
  const { app } = useAppTab();
  const state = useOperation(APP_LIMITS, { key: app.key });
  return (
    <QueryState state={state} loadingLabel="Loading the limits" isEmpty={(data) => !data.app} empty={<EmptyState title="No such app" />}>
      {(data) => <LimitsView app={data.app!} tiers={data.tierLimits} refetch={state.refetch} />}
    </QueryState>
  );
}
