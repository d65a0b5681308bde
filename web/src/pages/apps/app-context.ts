/** What the app page hands each of its tabs (E's explorer and call report too): the app's header and a way to refresh it. */
import { useEffect } from 'react';
import { useOutletContext } from 'react-router';
import { PLATFORM_NAME } from '../../lib';
import type { AppHeader } from './operations';

export interface AppTabContext {
  app: AppHeader;
  refreshApp: () => Promise<void>;
}

export const useAppTab = (): AppTabContext => useOutletContext<AppTabContext>();

/** The document's title for a tab: the tab and the app. */
export function useTabTitle(tab: string) {
  const { app } = useAppTab();
  useEffect(() => {
    document.title = `${tab} · ${app.name} · ${PLATFORM_NAME} developer portal`;
  }, [tab, app.name]);
}
