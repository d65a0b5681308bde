/**
 * What a field needs, as the schema's @requiresScopes says: alternatives ("or") of scope sets
 * ("and"), each scope by its name with its description for those who hover or read it aloud; with
 * `held`, each scope marked held or missing. Shared by the reference and the explorer.
 */
import { Badge, Group, Text, Tooltip } from '@mantine/core';
import { Fragment } from 'react';

/** The scopes that are not an app's: the principals they stand for. */
const PRINCIPAL_SCOPES: Record<string, string> = {
  operator: 'Platform operators, in the console',
  developer: 'A signed-in developer, in the portal',
};

export function RequiredScopes({
  required,
  held,
  descriptions,
}: {
  required: string[][] | null;
  /** The scopes the caller holds: each badge says held or not. */
  held?: ReadonlySet<string>;
  descriptions?: ReadonlyMap<string, string>;
}) {
  if (!required || required.length === 0) {
    return (
      <Badge variant="outline" color="gray.8" tt="none">
        Any valid token
      </Badge>
    );
  }
  return (
    <Group gap={6} wrap="wrap">
      {required.map((all, index) => (
        <Fragment key={all.join('+')}>
          {index > 0 && (
            <Text size="xs" c="dimmed">
              or
            </Text>
          )}
          {all.map((scope, i) => {
            const description = PRINCIPAL_SCOPES[scope] ?? descriptions?.get(scope);
            const isHeld = held?.has(scope);
            const badge = (
              <Badge
                variant={held && isHeld ? 'filled' : 'outline'}
                color={held ? (isHeld ? 'teal.9' : 'gray.8') : PRINCIPAL_SCOPES[scope] ? 'gray.8' : undefined}
                tt="none"
                aria-label={`${scope}${held ? (isHeld ? ', held' : ', not held') : ''}${description ? `: ${description}` : ''}`}
              >
                {scope}
              </Badge>
            );
            return (
              <Fragment key={scope}>
                {i > 0 && (
                  <Text size="xs" c="dimmed">
                    and
                  </Text>
                )}
                {description ? (
                  <Tooltip label={description} multiline maw={320} withArrow>
                    {badge}
                  </Tooltip>
                ) : (
                  badge
                )}
              </Fragment>
            );
          })}
        </Fragment>
      ))}
    </Group>
  );
}
