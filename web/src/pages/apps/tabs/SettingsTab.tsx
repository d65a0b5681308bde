import { PageHeader } from '../../../lib';

/** Settings */
export default function SettingsTab() {
  return <PageHeader title="Settings" description="Coming shortly." />;
}
