/**
 * The recovery codes, shown once after enrolment: each signs in once in place of an authenticator
 * code. The platform keeps only their hashes, so the operator copies or downloads them now and says
 * so before going on.
 */
import { Alert, Button, Checkbox, Code, CopyButton, Group, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useState } from 'react';

function download(codes: string[]) {
  const text = `Portico operator console: recovery codes\nEach code signs in once in place of an authenticator code.\n\n${codes.join('\n')}\n`;
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = 'portico-recovery-codes.txt';
  link.click();
  // After the click has handed the file to the browser.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

export function RecoveryCodes({ codes, onContinue }: { codes: string[]; onContinue: () => void }) {
  const [stored, setStored] = useState(false);
  return (
    <Stack gap="md">
      <Title order={1} size="h3">
        Store your recovery codes
      </Title>
      <Alert color="yellow" variant="light" role="status" title="Shown this once">
        If you lose your authenticator, each of these codes signs you in once. The platform keeps only their hashes: store them now, somewhere safe and apart from your phone.
      </Alert>
      <SimpleGrid cols={2} spacing="xs" component="ul" aria-label="Recovery codes" data-testid="recovery-codes" style={{ listStyle: 'none', padding: 0, margin: 0 }}>
        {codes.map((code) => (
          <li key={code}>
            <Code fz="sm">{code}</Code>
          </li>
        ))}
      </SimpleGrid>
      <Group gap="sm">
        <CopyButton value={codes.join('\n')} timeout={2000}>
          {({ copied, copy }) => (
            <Button variant="default" size="xs" onClick={copy}>
              {copied ? 'Copied' : 'Copy the codes'}
            </Button>
          )}
        </CopyButton>
        <Button variant="default" size="xs" onClick={() => download(codes)}>
          Download the codes
        </Button>
      </Group>
      <Checkbox label="I stored my recovery codes" checked={stored} onChange={(e) => setStored(e.currentTarget.checked)} />
      <Text size="xs" c="dimmed">
        {codes.length} codes.
      </Text>
      <Button disabled={!stored} onClick={onContinue}>
        Continue to the console
      </Button>
    </Stack>
  );
}
