import { PageHeader } from '../../../lib';

/** Messages */
export default function MessagesTab() {
  return <PageHeader title="Messages" description="Coming shortly." />;
}
