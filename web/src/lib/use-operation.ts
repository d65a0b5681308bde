/**
 * Reading and changing data from a page: `useOperation` runs a query when the page mounts (and again
 * when its variables change or `refetch` is called); `useMutation` runs an operation on demand. Both
 * keep the loading and error states the page shows (see QueryState).
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { graphql, type Operation } from './graphql';

export interface OperationState<TData> {
  data: TData | undefined;
  error: unknown;
  loading: boolean;
  refetch: () => Promise<void>;
}

export function useOperation<TData, TVariables extends Record<string, unknown> | undefined>(
  document: Operation<TData, TVariables>,
  variables?: TVariables,
  options: { skip?: boolean } = {},
): OperationState<TData> {
  const [data, setData] = useState<TData>();
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(!options.skip);
  const key = JSON.stringify(variables ?? null);
  const current = useRef(0);

  const run = useCallback(async () => {
    const id = ++current.current;
    setLoading(true);
    try {
      const result = await (graphql as (d: string, v?: unknown) => Promise<TData>)(document, key === 'null' ? undefined : JSON.parse(key));
      if (id === current.current) {
        setData(result);
        setError(undefined);
      }
    } catch (failure) {
      if (id === current.current) setError(failure);
    } finally {
      if (id === current.current) setLoading(false);
    }
  }, [document, key]);

  useEffect(() => {
    if (options.skip) return;
    void run();
  }, [run, options.skip]);

  return { data, error, loading, refetch: run };
}

export interface MutationState<TData, TVariables> {
  run: (variables: TVariables) => Promise<TData | undefined>;
  data: TData | undefined;
  error: unknown;
  loading: boolean;
  reset: () => void;
}

export function useMutation<TData, TVariables extends Record<string, unknown> | undefined>(document: Operation<TData, TVariables>): MutationState<TData, TVariables> {
  const [data, setData] = useState<TData>();
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(false);
  const run = useCallback(
    async (variables: TVariables) => {
      setLoading(true);
      setError(undefined);
      try {
        const result = await (graphql as (d: string, v?: unknown) => Promise<TData>)(document, variables);
        setData(result);
        return result;
      } catch (failure) {
        setError(failure);
        return undefined;
      } finally {
        setLoading(false);
      }
    },
    [document],
  );
  const reset = useCallback(() => {
    setData(undefined);
    setError(undefined);
  }, []);
  return { run, data, error, loading, reset };
}
