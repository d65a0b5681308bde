import { PageHeader } from '../../lib';

/** Sign up */
export default function SignUpPage() {
  return <PageHeader title="Sign up" description="Coming shortly." />;
}
