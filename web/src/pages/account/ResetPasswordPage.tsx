import { PageHeader } from '../../lib';

/** Reset password */
export default function ResetPasswordPage() {
  return <PageHeader title="Reset password" description="Coming shortly." />;
}
