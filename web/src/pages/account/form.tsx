/** Pieces the account pages share: the minimum password length and the form's error line. */
import { Alert } from '@mantine/core';

/** The platform's minimum (the sign-up and reset endpoints refuse shorter ones). */
export const MIN_PASSWORD_LENGTH = 12;

export function passwordProblem(password: string): string | null {
  return password.length < MIN_PASSWORD_LENGTH ? `Too short: at least ${MIN_PASSWORD_LENGTH} characters.` : null;
}

export function FormError({ message }: { message: string | null }) {
  if (!message) return null;
  return (
    <Alert color="red" variant="light" role="alert">
      {message}
    </Alert>
  );
}
