/**
 * The confirmation every operator action goes through: a dialog saying what will happen, a
 * required "Reason" (it goes to the audit log, and for some actions to the developer), optional
 * fields of the action's own, and "Confirm", which runs the action's GraphQL operation. The dialog
 * stays open with the platform's answer when it refuses.
 */
import { Button, Group, Modal, Stack, Text, Textarea } from '@mantine/core';
import { useEffect, useState, type ReactNode } from 'react';
import { ErrorAlert } from '../../lib/layout';

export interface ReasonDialogProps {
  opened: boolean;
  title: string;
  /** What confirming does, in a sentence or two. */
  description?: ReactNode;
  /** Extra fields of the action, above the reason. */
  children?: ReactNode;
  /** What the reason is for, under its label. */
  reasonHint?: string;
  /** A starting reason (the operator can change it). */
  defaultReason?: string;
  confirmLabel?: string;
  confirmColor?: string;
  /** Runs the action; resolves to true when it is done (the dialog closes), false when refused. */
  onConfirm: (reason: string) => Promise<boolean>;
  onClose: () => void;
  /** The refusal to show, if any. */
  error?: unknown;
  /** Whether the extra fields are complete. */
  ready?: boolean;
  /** Label of the reason field ("Reason"; a violation's is what happened). */
  reasonLabel?: string;
  /** False for an action the API takes without a reason: the dialog only confirms. */
  askReason?: boolean;
}

export function ReasonDialog({ opened, title, description, children, reasonHint, defaultReason = '', confirmLabel = 'Confirm', confirmColor, onConfirm, onClose, error, ready = true, reasonLabel = 'Reason', askReason = true }: ReasonDialogProps) {
  const [reason, setReason] = useState(defaultReason);
  const [missing, setMissing] = useState(false);
  const [running, setRunning] = useState(false);
  useEffect(() => {
    if (opened) {
      setReason(defaultReason);
      setMissing(false);
    }
  }, [opened, defaultReason]);

  const confirm = async () => {
    if (askReason && !reason.trim()) {
      setMissing(true);
      return;
    }
    setRunning(true);
    try {
      if (await onConfirm(reason.trim())) onClose();
    } finally {
      setRunning(false);
    }
  };

  return (
    <Modal opened={opened} onClose={onClose} title={title} centered closeButtonProps={{ 'aria-label': 'Close' }}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void confirm();
        }}
        noValidate
      >
        <Stack gap="md">
          {description && (
            <Text size="sm" component="div">
              {description}
            </Text>
          )}
          {children}
          {askReason && (
          <Textarea
            label={reasonLabel}
            description={reasonHint ?? 'Recorded in the audit log with your name and the time.'}
            required
            autosize
            minRows={2}
            value={reason}
            onChange={(e) => {
              setReason(e.currentTarget.value);
              setMissing(false);
            }}
            error={missing ? 'Give a reason.' : undefined}
            data-autofocus
          />
          )}
          {Boolean(error) && <ErrorAlert error={error} title="The platform refused it" />}
          <Group justify="flex-end" gap="sm">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={running} disabled={!ready} {...(confirmColor ? { color: confirmColor } : {})}>
              {confirmLabel}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
