/**
 * A 6-digit code from an authenticator app (Mantine's PinInput): a labelled group of six fields,
 * each named by its position, that takes a pasted code and offers the platform's one-time-code
 * autofill.
 */
import { PinInput, Stack, Text } from '@mantine/core';
import { useId } from 'react';

export function CodeInput({ label, value, onChange, onComplete, disabled }: { label: string; value: string; onChange: (value: string) => void; onComplete?: (value: string) => void; disabled?: boolean }) {
  const labelId = useId();
  return (
    <Stack gap={6}>
      <Text size="sm" fw={500} id={labelId}>
        {label}
      </Text>
      <PinInput
        role="group"
        aria-labelledby={labelId}
        length={6}
        type="number"
        oneTimeCode
        value={value}
        onChange={onChange}
        {...(onComplete ? { onComplete } : {})}
        getInputProps={(index) => ({ 'aria-label': `${label}: digit ${index + 1} of 6` })}
        autoFocus
        disabled={disabled}
      />
    </Stack>
  );
}
