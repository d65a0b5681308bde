import { Outlet } from 'react-router';

export default function AppDetailPage() {
  return <Outlet />;
}
