import { PageHeader } from '../../lib';

/** Forgot password */
export default function ForgotPasswordPage() {
  return <PageHeader title="Forgot password" description="Coming shortly." />;
}
