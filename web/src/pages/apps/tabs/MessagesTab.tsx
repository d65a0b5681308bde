/**
 * The app's message streams, one per merchant (its sandbox first): where each topic's cursor stands
 * and how many messages are unacknowledged; the delivery records with every push; and the manual
 * push strategies: re-push chosen messages, and reset the cursor (replay from a cursor or a time).
 */
import { Badge, Button, Checkbox, Code, Group, MultiSelect, SegmentedControl, Select, Stack, Switch, Table, Text, TextInput } from '@mantine/core';
import { useEffect, useState } from 'react';
import { CopyableCode, EmptyState, ErrorAlert, formatDateTime, formatNumber, PageLoader, QueryState, useMutation, useOperation } from '../../../lib';
import { useAppTab, useTabTitle } from '../app-context';
import { APP_MESSAGE_RECORDS, APP_MESSAGE_STREAMS, REDELIVER_MESSAGES, RESET_MESSAGE_CURSOR, type AppMessageStream, type MessageRecord, type MessageTopic } from '../operations';
import { Section } from '../section';

function StreamStatus({ stream }: { stream: AppMessageStream }) {
  return (
    <Table.ScrollContainer minWidth={560}>
      <Table aria-label={`Topics of ${stream.merchantName ?? stream.merchantId}`}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Topic</Table.Th>
            <Table.Th>Unacknowledged</Table.Th>
            <Table.Th>Cursor last moved</Table.Th>
            <Table.Th>State</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {stream.topics.map((topic) => (
            <Table.Tr key={topic.topic}>
              <Table.Td>{topic.topic.toLowerCase()}</Table.Td>
              <Table.Td data-testid={`pending-${topic.topic}`}>{formatNumber(topic.pending)}</Table.Td>
              <Table.Td>{formatDateTime(topic.acknowledgedAt)}</Table.Td>
              <Table.Td>
                {!topic.subscribable ? (
                  <Badge color="gray" variant="light">
                    no scope
                  </Badge>
                ) : topic.expired ? (
                  <Badge color="red" variant="light">
                    expired: reset the cursor
                  </Badge>
                ) : (
                  <Badge color="green" variant="light">
                    subscribable
                  </Badge>
                )}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

function CursorReset({ appKey, stream, onReset }: { appKey: string; stream: AppMessageStream; onReset: () => void }) {
  const reset = useMutation(RESET_MESSAGE_CURSOR);
  const [mode, setMode] = useState<'time' | 'cursor'>('time');
  const [time, setTime] = useState('');
  const [cursor, setCursor] = useState('');
  const [topics, setTopics] = useState<string[]>([]);
  const ready = mode === 'time' ? !!time : !!cursor.trim();
  return (
    <form
      aria-label="Reset the cursor"
      onSubmit={async (event) => {
        event.preventDefault();
        const to = {
          ...(mode === 'time' ? { time: new Date(time).toISOString() } : { cursor: cursor.trim() }),
          ...(topics.length ? { topics: topics as MessageTopic[] } : {}),
        };
        if (await reset.run({ input: { appKey, merchantId: stream.merchantId, to } })) onReset();
      }}
    >
      <Stack gap="sm">
        <SegmentedControl
          value={mode}
          onChange={(value) => setMode(value as 'time' | 'cursor')}
          data={[
            { value: 'time', label: 'From a time' },
            { value: 'cursor', label: 'After a cursor' },
          ]}
          aria-label="Replay from"
          w="fit-content"
        />
        {mode === 'time' ? (
          <TextInput type="datetime-local" label="Replay everything that happened at or after" value={time} onChange={(e) => setTime(e.currentTarget.value)} maw={320} />
        ) : (
          <TextInput label="Replay everything after the cursor" value={cursor} onChange={(e) => setCursor(e.currentTarget.value)} styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)' } }} />
        )}
        <MultiSelect label="Topics" description="None chosen: every topic the app may subscribe to." data={stream.topics.map((t) => ({ value: t.topic, label: t.topic.toLowerCase() }))} value={topics} onChange={setTopics} clearable maw={420} />
        <ErrorAlert error={reset.error} title="The cursor was not reset" />
        <Group>
          <Button type="submit" variant="default" loading={reset.loading} disabled={!ready}>
            Reset the cursor
          </Button>
          {reset.data && !reset.loading && (
            <Text size="sm" c="teal.9" role="status">
              Reset: the next subscription replays from there.
            </Text>
          )}
        </Group>
      </Stack>
    </form>
  );
}

function Records({ appKey, merchantId }: { appKey: string; merchantId: string }) {
  const [unacknowledgedOnly, setUnacknowledgedOnly] = useState(false);
  const [after, setAfter] = useState<string | null>(null);
  const [shown, setShown] = useState<MessageRecord[]>([]);
  const [selected, setSelected] = useState<string[]>([]);
  const records = useOperation(APP_MESSAGE_RECORDS, { key: appKey, merchantId, unacknowledgedOnly, after });
  const redeliver = useMutation(REDELIVER_MESSAGES);
  const page = records.data?.developerApp?.messageRecords;

  useEffect(() => {
    if (!page) return;
    setShown((previous) => (after ? [...previous.filter((r) => !page.nodes.some((n) => n.id === r.id)), ...page.nodes] : page.nodes));
  }, [page, after]);
  useEffect(() => {
    setAfter(null);
    setSelected([]);
  }, [merchantId, unacknowledgedOnly]);

  const repush = async (ids: string[]) => {
    if (await redeliver.run({ input: { appKey, merchantId, ids } })) {
      setSelected([]);
      setAfter(null);
      await records.refetch();
    }
  };
  const result = redeliver.data?.redeliverAppMessages;

  return (
    <Stack gap="sm">
      <Group justify="space-between">
        <Switch label="Unacknowledged only" checked={unacknowledgedOnly} onChange={(e) => setUnacknowledgedOnly(e.currentTarget.checked)} />
        <Button size="xs" disabled={!selected.length} loading={redeliver.loading} onClick={() => void repush(selected)}>
          Re-push {selected.length ? `${selected.length} selected` : 'selected'}
        </Button>
      </Group>
      <ErrorAlert error={redeliver.error} title="Not re-pushed" />
      {result && !redeliver.loading && (
        <Text size="sm" role="status" c="teal.9" data-testid="repush-result">
          {result.queued.length} message(s) queued for a manual push{result.unknown.length ? `; ${result.unknown.length} unknown` : ''}. They go out on the app's open subscription (or the next one).
        </Text>
      )}
      {records.error ? (
        <ErrorAlert error={records.error} onRetry={() => void records.refetch()} />
      ) : !page && shown.length === 0 ? (
        <PageLoader label="Loading the delivery records" />
      ) : shown.length === 0 ? (
        <EmptyState title="No messages pushed yet">Records appear once the app subscribes (see the message channel docs) and a message is pushed to it.</EmptyState>
      ) : (
        <Table.ScrollContainer minWidth={820}>
          <Table striped aria-label="Delivery records">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>
                  <Checkbox
                    aria-label="Select every message shown"
                    checked={selected.length === shown.length}
                    indeterminate={selected.length > 0 && selected.length < shown.length}
                    onChange={(e) => setSelected(e.currentTarget.checked ? shown.map((r) => r.id) : [])}
                  />
                </Table.Th>
                <Table.Th>Message</Table.Th>
                <Table.Th>Occurred</Table.Th>
                <Table.Th>Pushes</Table.Th>
                <Table.Th>Acknowledged</Table.Th>
                <Table.Th>Actions</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {shown.map((record) => (
                <Table.Tr key={record.id} data-testid="message-record">
                  <Table.Td>
                    <Checkbox
                      aria-label={`Select message ${record.id}`}
                      checked={selected.includes(record.id)}
                      onChange={(e) => setSelected((ids) => (e.currentTarget.checked ? [...ids, record.id] : ids.filter((id) => id !== record.id)))}
                    />
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm">{record.type}</Text>
                    <Code>{record.id}</Code>
                  </Table.Td>
                  <Table.Td>{formatDateTime(record.occurredAt)}</Table.Td>
                  <Table.Td>
                    <Text size="sm">
                      {record.deliveries.length} push(es), first {formatDateTime(record.firstPushedAt)}
                    </Text>
                    <Text size="xs" c="dimmed">
                      {record.deliveries.map((d) => `${d.reason.toLowerCase()} #${d.attempt} (${d.transport})`).join(', ')}
                    </Text>
                    {record.redeliveryPending && (
                      <Badge color="blue" variant="light">
                        re-push pending
                      </Badge>
                    )}
                  </Table.Td>
                  <Table.Td>{record.acknowledgedAt ? formatDateTime(record.acknowledgedAt) : <Badge color="orange" variant="light">not yet</Badge>}</Table.Td>
                  <Table.Td>
                    <Button size="xs" variant="default" onClick={() => void repush([record.id])} aria-label={`Re-push message ${record.id}`} loading={redeliver.loading}>
                      Re-push
                    </Button>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {page?.pageInfo.hasNextPage && (
        <Button variant="default" loading={records.loading} onClick={() => setAfter(page.pageInfo.endCursor)} w="fit-content">
          Load older messages
        </Button>
      )}
    </Stack>
  );
}

export default function MessagesTab() {
  useTabTitle('Messages');
  const { app: header } = useAppTab();
  const streams = useOperation(APP_MESSAGE_STREAMS, { key: header.key });
  const [merchantId, setMerchantId] = useState<string | null>(null);

  return (
    <QueryState
      state={{ ...streams, data: streams.data?.developerApp?.messageStreams }}
      loadingLabel="Loading the message streams"
      isEmpty={(list) => list.length === 0}
      empty={<EmptyState title="No message streams yet">A stream starts when a merchant (the sandbox, first) authorizes the app and it holds a messages scope.</EmptyState>}
    >
      {(list) => {
        const stream = list.find((s) => s.merchantId === merchantId) ?? list[0]!;
        return (
          <Stack>
            <Select
              label="Merchant"
              data={list.map((s) => ({ value: s.merchantId, label: s.merchantName ?? s.merchantId }))}
              value={stream.merchantId}
              onChange={(value) => value && setMerchantId(value)}
              allowDeselect={false}
              maw={420}
            />
            <Section title="Stream" description="Each topic's acknowledged position, and the messages after it.">
              <StreamStatus stream={stream} />
              <Text size="sm">Acknowledged cursor:</Text>
              <CopyableCode value={stream.acknowledgedCursor} label="the acknowledged cursor" />
            </Section>
            <Section title="Reset push (replay)" description="Move the cursor back: the app's next subscription receives every message after it again.">
              <CursorReset key={stream.merchantId} appKey={header.key} stream={stream} onReset={() => void streams.refetch()} />
            </Section>
            <Section title="Delivery records" description="Every message pushed to the app for this merchant, most recent first, with each push. Re-push sends chosen messages again on the app's subscription.">
              <Records key={stream.merchantId} appKey={header.key} merchantId={stream.merchantId} />
            </Section>
          </Stack>
        );
      }}
    </QueryState>
  );
}
