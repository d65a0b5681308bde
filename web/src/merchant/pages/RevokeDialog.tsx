/**
 * The confirmation before revoking an app: what happens (its tokens stop within seconds, it must ask
 * the shop again to come back), an optional reason kept with the revocation, and the platform's
 * refusal if there is one.
 */
import { Button, Group, Modal, Stack, Text, Textarea } from '@mantine/core';
import { useEffect, useState } from 'react';
import { ErrorAlert } from '../../lib/layout';
import { useMutation } from '../../lib/use-operation';
import { REVOKE_APP, type AuthorizedApp } from '../operations';

/** The API's limit on a reason's length. */
const MAX_REASON = 500;

export function RevokeDialog({ app, merchantName, onClose, onRevoked }: { app: AuthorizedApp | null; merchantName: string; onClose: () => void; onRevoked: (app: AuthorizedApp) => void }) {
  const revoke = useMutation(REVOKE_APP);
  const [reason, setReason] = useState('');
  const { reset } = revoke;
  // Each app's dialog starts empty.
  useEffect(() => {
    setReason('');
    reset();
  }, [app?.id, reset]);

  const confirm = async () => {
    if (!app) return;
    const done = await revoke.run({ id: app.id, reason: reason.trim() || null });
    if (done) onRevoked(app);
  };

  return (
    <Modal opened={app !== null} onClose={onClose} title={app ? `Revoke ${app.appName}?` : ''} centered closeButtonProps={{ 'aria-label': 'Close' }}>
      {app && (
        <form
          aria-label={`Revoke ${app.appName}`}
          onSubmit={(event) => {
            event.preventDefault();
            void confirm();
          }}
        >
          <Stack>
            <Text size="sm">
              {app.appName} loses its access to {merchantName}: its tokens stop working within seconds, before they expire. To use it again, someone at your shop has to
              authorize it again.
            </Text>
            <Textarea
              label="Reason (optional)"
              description="Kept with the revocation, for your records and the platform's."
              autosize
              minRows={2}
              maxLength={MAX_REASON}
              value={reason}
              onChange={(e) => setReason(e.currentTarget.value)}
            />
            <ErrorAlert error={revoke.error} title="The app was not revoked" />
            <Group justify="flex-end">
              <Button variant="default" onClick={onClose} disabled={revoke.loading}>
                Cancel
              </Button>
              {/* red's darkest shade: white on it passes WCAG AA contrast */}
              <Button type="submit" color="red.9" loading={revoke.loading}>
                Revoke access
              </Button>
            </Group>
          </Stack>
        </form>
      )}
    </Modal>
  );
}
