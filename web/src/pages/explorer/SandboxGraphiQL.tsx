/**
 * GraphiQL against /graphql with the app's sandbox token (subscriptions over Server-Sent Events at
 * /graphql/stream, the message channel's transport, with the same token): its own chunk (GraphiQL, CodeMirror and
 * graphql-js are most of the explorer's weight), loaded after the page around it. The schema comes
 * from an introspection made with the same token, so the editor knows what the gateway serves; its
 * tabs and history live in memory (memory-storage.ts), and the headers editor is off: the token is
 * added by the fetcher, never typed, shown or stored.
 */
import 'graphiql/style.css';
import './explorer.css';
import type { Fetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { buildClientSchema, getIntrospectionQuery, Kind, OperationTypeNode, parse, type ExecutionResult, type GraphQLSchema, type IntrospectionQuery } from 'graphql';
import { createClient } from 'graphql-sse';
import { useEffect, useMemo, useRef, useState } from 'react';
import { ErrorAlert, graphqlFetch, PageLoader } from '../../lib';
import { memoryStorage } from './memory-storage';
import { coordinatesOf } from './query-coordinates';

export interface SandboxGraphiQLProps {
  appName: string;
  /** A valid sandbox access token for the next request. */
  accessToken: () => Promise<string>;
  initialQuery: string;
  initialVariables?: string;
  /** The fields the editor's document selects, as it changes. */
  onCoordinates: (coordinates: string[]) => void;
}

/** How long typing pauses before the fields of the document are worked out again. */
const EDIT_SETTLE_MS = 250;

/** Whether the operation GraphiQL is about to send is a subscription (a document that does not parse goes to /graphql, which says why). */
function isSubscription(query: string, operationName: string | null | undefined): boolean {
  try {
    const operations = parse(query).definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
    const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations[0];
    return operation?.operation === OperationTypeNode.SUBSCRIPTION;
  } catch {
    return false;
  }
}

/** Each editor (its area), named for screen readers: GraphiQL leaves CodeMirror's input unnamed. */
const EDITOR_LABELS: [selector: string, label: string][] = [
  ['.graphiql-query-editor', 'Query'],
  ['.graphiql-editor-tool', 'Variables'],
  ['.graphiql-response', 'Response'],
];

/**
 * Names GraphiQL's editors and lets the keyboard reach their scrolling areas, on every
 * change of the editors GraphiQL makes (they are created after mount and again per document).
 */
function useEditorAccessibility(container: HTMLElement | null) {
  useEffect(() => {
    if (!container) return;
    const apply = () => {
      for (const [selector, label] of EDITOR_LABELS) {
        for (const area of container.querySelectorAll<HTMLElement>(selector)) {
          for (const input of area.querySelectorAll<HTMLTextAreaElement>('textarea')) if (input.getAttribute('aria-label') !== label) input.setAttribute('aria-label', label);
          // A long document or answer scrolls: the keyboard can reach and scroll it.
          for (const scroller of area.querySelectorAll<HTMLElement>('.CodeMirror-scroll')) {
            if (scroller.tabIndex === 0) continue;
            scroller.tabIndex = 0;
            scroller.setAttribute('role', 'region');
            scroller.setAttribute('aria-label', `${label}, scrolling area`);
          }
        }
      }
    };
    apply();
    const observer = new MutationObserver(apply);
    observer.observe(container, { childList: true, subtree: true });
    return () => observer.disconnect();
  }, [container]);
}

export default function SandboxGraphiQL({ appName, accessToken, initialQuery, initialVariables, onCoordinates }: SandboxGraphiQLProps) {
  const [schema, setSchema] = useState<GraphQLSchema>();
  const [error, setError] = useState<string>();
  const [attempt, setAttempt] = useState(0);
  const storage = useMemo(() => memoryStorage(), []);
  const settle = useRef<ReturnType<typeof setTimeout>>(undefined);
  const [container, setContainer] = useState<HTMLDivElement | null>(null);
  useEditorAccessibility(container);

  // Subscriptions stream their events as the message channel pushes them; GraphiQL's stop button ends the stream.
  const events = useMemo(
    () => createClient({ url: '/graphql/stream', credentials: 'omit', headers: async () => ({ authorization: `Bearer ${await accessToken()}` }) }),
    [accessToken],
  );
  useEffect(() => () => events.dispose(), [events]);

  const fetcher = useMemo<Fetcher>(
    () => async (params) => {
      if (isSubscription(params.query, params.operationName)) {
        return events.iterate({ query: params.query, variables: params.variables ?? undefined, operationName: params.operationName ?? undefined });
      }
      const { json } = await graphqlFetch(
        { query: params.query, variables: params.variables ?? undefined, operationName: params.operationName ?? undefined },
        { accessToken: await accessToken() },
      );
      // The answer as the platform sent it: GraphiQL shows it as JSON.
      return json as ExecutionResult;
    },
    [accessToken, events],
  );

  useEffect(() => {
    let current = true;
    (async () => {
      const { json } = await graphqlFetch({ query: getIntrospectionQuery(), operationName: 'IntrospectionQuery' }, { accessToken: await accessToken() });
      if (!current) return;
      if (json.errors?.length || !json.data) throw new Error(json.errors?.[0]?.message ?? 'The platform sent no schema');
      const built = buildClientSchema(json.data as IntrospectionQuery);
      setSchema(built);
      onCoordinates(coordinatesOf(built, initialQuery));
    })().catch((failure: unknown) => current && setError(failure instanceof Error ? failure.message : String(failure)));
    return () => {
      current = false;
    };
    // The first document's fields are worked out once, with the schema: not again when the callbacks change.
  }, [accessToken, attempt]);

  useEffect(() => () => clearTimeout(settle.current), []);

  if (error) return <ErrorAlert error={`The schema could not be loaded: ${error}`} onRetry={() => (setError(undefined), setAttempt((n) => n + 1))} />;
  if (!schema) return <PageLoader label="Loading the schema" />;
  return (
    <div ref={setContainer} style={{ height: '100%' }}>
      <GraphiQL
        fetcher={fetcher}
        schema={schema}
        storage={storage}
        defaultTabs={[{ query: initialQuery, variables: initialVariables ?? null }]}
        // The variables editor starts from its own prop, not from the default tab's.
        {...(initialVariables ? { variables: initialVariables } : {})}
        isHeadersEditorEnabled={false}
        shouldPersistHeaders={false}
        forcedTheme="light"
        defaultEditorToolsVisibility={initialVariables ? 'variables' : false}
        onEditQuery={(query) => {
          clearTimeout(settle.current);
          settle.current = setTimeout(() => onCoordinates(coordinatesOf(schema, query)), EDIT_SETTLE_MS);
        }}
      >
        <GraphiQL.Logo>Sandbox · {appName}</GraphiQL.Logo>
      </GraphiQL>
    </div>
  );
}
