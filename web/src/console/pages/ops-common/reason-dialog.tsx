/**
 * The dialog every operator action that needs a reason opens: what is about to happen, a required
 * "Reason" (it goes to the audit log, and for some actions to the developer), and "Confirm". The
 * action's error shows inside the dialog, which stays open until the action succeeds.
 */
import { Button, Group, Modal, Stack, Text, Textarea } from '@mantine/core';
import { useEffect, useState, type ReactNode } from 'react';
import { ErrorAlert } from '../../../lib';

export interface ReasonDialogProps {
  /** The dialog's title; null closes it. */
  title: string | null;
  /** What confirming does, in a sentence. */
  description?: ReactNode;
  /** The button's colour: red for actions that take something away. */
  danger?: boolean;
  reasonDescription?: string;
  loading: boolean;
  error: unknown;
  onConfirm: (reason: string) => unknown;
  onClose: () => void;
}

export function ReasonDialog({ title, description, danger, reasonDescription = 'Recorded in the audit log with your name and the time.', loading, error, onConfirm, onClose }: ReasonDialogProps) {
  const [reason, setReason] = useState('');
  // The title stays while the dialog's closing transition runs.
  const [shownTitle, setShownTitle] = useState(title);
  useEffect(() => {
    if (title) {
      setShownTitle(title);
      setReason('');
    }
  }, [title]);
  return (
    <Modal opened={title !== null} onClose={onClose} title={shownTitle} centered closeButtonProps={{ 'aria-label': 'Close' }}>
      <form
        aria-label={shownTitle ?? undefined}
        onSubmit={(event) => {
          event.preventDefault();
          if (reason.trim()) void onConfirm(reason.trim());
        }}
      >
        <Stack>
          {description && <Text size="sm">{description}</Text>}
          <Textarea label="Reason" description={reasonDescription} required autosize minRows={2} value={reason} onChange={(e) => setReason(e.currentTarget.value)} data-autofocus />
          <ErrorAlert error={error} title="Not done" />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" color={danger ? 'red' : undefined} loading={loading} disabled={!reason.trim()}>
              Confirm
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
