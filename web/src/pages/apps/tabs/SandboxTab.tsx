import { PageHeader } from '../../../lib';

/** Sandbox */
export default function SandboxTab() {
  return <PageHeader title="Sandbox" description="Coming shortly." />;
}
