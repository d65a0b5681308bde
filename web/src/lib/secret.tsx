/**
 * A secret the platform shows once (a new app's secret, a rotated one, a sandbox token): in a
 * read-only field with a copy button. It lives in the page's memory only, never in the browser's
 * storage, and is gone when the developer leaves the page.
 */
import type { ReactNode } from 'react';
import { CheckIcon, CopyIcon } from './icons';
import { ActionIcon, Alert, Code, CopyButton, Group, Stack, Text, Tooltip } from '@mantine/core';

export function CopyValue({ value, label }: { value: string; label: string }) {
  return (
    <CopyButton value={value} timeout={2000}>
      {({ copied, copy }) => (
        <Tooltip label={copied ? 'Copied' : `Copy ${label}`} withArrow>
          <ActionIcon variant={copied ? 'filled' : 'default'} color={copied ? 'teal' : undefined} onClick={copy} aria-label={copied ? `${label} copied` : `Copy ${label}`} size="lg">
            {copied ? <CheckIcon /> : <CopyIcon />}
          </ActionIcon>
        </Tooltip>
      )}
    </CopyButton>
  );
}

/** A value beside its copy button, in monospace, wrapping anywhere (tokens have no spaces). */
export function CopyableCode({ value, label, testId }: { value: string; label: string; testId?: string }) {
  return (
    <Group gap="xs" wrap="nowrap" align="flex-start">
      <Code block style={{ flex: 1, wordBreak: 'break-all', whiteSpace: 'pre-wrap' }} data-testid={testId} aria-label={label}>
        {value}
      </Code>
      <CopyValue value={value} label={label} />
    </Group>
  );
}

export function SecretOnce({ secret, title = 'Copy the secret now', children }: { secret: string; title?: string; children?: ReactNode }) {
  return (
    <Alert color="yellow" variant="light" title={title} role="status">
      <Stack gap="xs">
        <Text size="sm">This is the only time the platform shows it: it keeps only a hash. Store it in your app's secret store.</Text>
        <CopyableCode value={secret} label="the secret" testId="app-secret" />
        {children}
      </Stack>
    </Alert>
  );
}
