/**
 * The traffic pages' range: a preset (the last 24 hours to 90 days) or a custom start and end, and
 * per hour or per day. The chosen range stays fixed until changed or refreshed, so the report's
 * variables do not move between renders.
 */
import { Button, Group, SegmentedControl, Stack, Text, TextInput } from '@mantine/core';
import { fromLocalInput, toLocalInput } from '../ops-common/time';
import type { Granularity } from './operations';
import { PRESETS, presetRange, rangeProblem, type Range } from './series';

export interface RangeChoice {
  preset: string;
  granularity: Granularity;
  customFrom: string;
  customTo: string;
  /** When the preset's range was computed: refreshing moves it. */
  asked: number;
}

export const initialChoice = (now = Date.now()): RangeChoice => ({ preset: '7d', granularity: 'HOUR', customFrom: toLocalInput(now - 7 * 86_400_000), customTo: toLocalInput(now), asked: now });

/** The range a choice asks for, or the reason it cannot be asked. */
export function rangeOf(choice: RangeChoice): { range?: Range; problem?: string } {
  const preset = PRESETS.find((p) => p.value === choice.preset);
  if (preset) return { range: presetRange(preset, choice.granularity, choice.asked) };
  const custom = { from: fromLocalInput(choice.customFrom), to: fromLocalInput(choice.customTo), granularity: choice.granularity };
  const problem = rangeProblem(custom);
  return problem ? { problem } : { range: custom as Range };
}

export function RangePicker({ choice, onChange, onRefresh, refreshing }: { choice: RangeChoice; onChange: (choice: RangeChoice) => void; onRefresh: () => void; refreshing: boolean }) {
  const custom = choice.preset === 'custom';
  const { problem } = rangeOf(choice);
  return (
    <Stack gap="xs">
      <Group gap="sm" align="flex-end" wrap="wrap">
        <SegmentedControl
          aria-label="Range"
          value={choice.preset}
          onChange={(value) => {
            const preset = PRESETS.find((p) => p.value === value);
            onChange({ ...choice, preset: value, granularity: preset?.granularity ?? choice.granularity, asked: Date.now() });
          }}
          data={[...PRESETS.map((p) => ({ value: p.value, label: p.label })), { value: 'custom', label: 'Custom' }]}
        />
        <SegmentedControl
          aria-label="Granularity"
          value={choice.granularity}
          onChange={(value) => onChange({ ...choice, granularity: value as Granularity, asked: Date.now() })}
          data={[
            { value: 'HOUR', label: 'Per hour' },
            { value: 'DAY', label: 'Per day' },
          ]}
        />
        <Button
          variant="default"
          loading={refreshing}
          onClick={() => {
            onChange({ ...choice, asked: Date.now() });
            onRefresh();
          }}
        >
          Refresh
        </Button>
      </Group>
      {custom && (
        <Group gap="sm" align="flex-start">
          <TextInput type="datetime-local" label="From" value={choice.customFrom} onChange={(e) => onChange({ ...choice, customFrom: e.currentTarget.value })} />
          <TextInput type="datetime-local" label="To" value={choice.customTo} onChange={(e) => onChange({ ...choice, customTo: e.currentTarget.value })} />
        </Group>
      )}
      {problem && (
        <Text size="sm" c="red.8" role="alert">
          {problem}
        </Text>
      )}
    </Stack>
  );
}
