import { PageHeader } from '../../lib';

/** Sign in */
export default function SignInPage() {
  return <PageHeader title="Sign in" description="Coming shortly." />;
}
