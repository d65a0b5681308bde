import { PageHeader } from '../../lib';

/** Verify your email */
export default function VerifyPage() {
  return <PageHeader title="Verify your email" description="Coming shortly." />;
}
