/** The permission packages operators offer: each one's tier and scopes, and the way to a new one, the grants and the request queue. */
import { Button, Code, Group, Table, Text, VisuallyHidden } from '@mantine/core';
import { Link } from 'react-router';
import { EmptyState, formatDateTime, PageHeader, QueryState, useOperation } from '../../../lib';
import { TierBadge } from './badges';
import { PACKAGES } from './operations';

export default function PackagesPage() {
  const packages = useOperation(PACKAGES);
  return (
    <>
      <PageHeader
        title="Permission packages"
        description="Bundles of scopes apps are granted. An app may use the scopes of the packages it holds now; revoking one bites at once."
        actions={
          <>
            <Button component={Link} to="/package-requests" variant="default">
              Requests
            </Button>
            <Button component={Link} to="/packages/grants" variant="default">
              Grants by app
            </Button>
            <Button component={Link} to="/packages/new">
              New package
            </Button>
          </>
        }
      />
      <QueryState
        state={packages}
        loadingLabel="Loading the packages"
        isEmpty={(data) => data.permissionPackages.length === 0}
        empty={
          <EmptyState title="No packages yet" action={<Button component={Link} to="/packages/new">New package</Button>}>
            Make one from the scopes of the catalog; apps then request it, or you grant it.
          </EmptyState>
        }
      >
        {({ permissionPackages }) => (
          <Table.ScrollContainer minWidth={720}>
            <Table striped aria-label="Permission packages" verticalSpacing="sm">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Package</Table.Th>
                  <Table.Th>Tier</Table.Th>
                  <Table.Th>Scopes</Table.Th>
                  <Table.Th>Changed</Table.Th>
                  <Table.Th>
                    <VisuallyHidden>Actions</VisuallyHidden>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {permissionPackages.map((pkg) => (
                  <Table.Tr key={pkg.id} data-testid="package-row">
                    <Table.Td>
                      <Text fw={600} size="sm">
                        {pkg.name}
                      </Text>
                      <Text size="xs" c="dimmed" lineClamp={2}>
                        {pkg.description}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <TierBadge tier={pkg.tier} />
                    </Table.Td>
                    <Table.Td>
                      <Group gap={4}>
                        {pkg.scopes.map((scope) => (
                          <Code key={scope.name}>{scope.name}</Code>
                        ))}
                      </Group>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{formatDateTime(pkg.updatedAt)}</Text>
                    </Table.Td>
                    <Table.Td>
                      <Button component={Link} to={`/packages/${encodeURIComponent(pkg.id)}`} size="xs" variant="default" aria-label={`Edit ${pkg.name}`}>
                        Edit
                      </Button>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </QueryState>
    </>
  );
}
