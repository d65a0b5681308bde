import { PageHeader } from '../../lib';

/** Check your email */
export default function CheckEmailPage() {
  return <PageHeader title="Check your email" description="Coming shortly." />;
}
