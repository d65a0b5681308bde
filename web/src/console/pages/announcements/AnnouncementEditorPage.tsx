/**
 * Writing an announcement (/announcements/new) or changing one not yet published
 * (/announcements/:announcementId): title, Markdown body with a live preview (the same renderer the
 * portal shows it with), targets (every developer, or the holders of some packages), then save it as
 * a draft, schedule it (a publish time ahead), or publish it now.
 */
import { Alert, Button, Group, MultiSelect, Paper, Radio, SimpleGrid, Stack, Text, Textarea, TextInput, Title } from '@mantine/core';
import { useCallback, useDeferredValue, useEffect, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { EmptyState, ErrorAlert, graphql, PageHeader, PageLoader, useMutation, useOperation } from '../../../lib';
import type { ConsoleAnnouncementsResult } from '../../../generated/operations';
import { Markdown } from '../../../lib/markdown';
import { fromLocalInput, toLocalInput } from '../ops-common/time';
import { ANNOUNCEMENT_PACKAGES, ANNOUNCEMENTS, CREATE_ANNOUNCEMENT, PUBLISH_ANNOUNCEMENT, UPDATE_ANNOUNCEMENT, type Announcement, type TargetPackage } from './operations';

/** The API lists announcements only (newest first): look for this one page by page. */
function useAnnouncement(id: string | undefined) {
  const [state, setState] = useState<{ announcement?: Announcement | null; error?: unknown }>({});
  const load = useCallback(async () => {
    if (!id) return;
    setState({});
    try {
      let after: string | null = null;
      for (;;) {
        const answer: ConsoleAnnouncementsResult = await graphql(ANNOUNCEMENTS, { first: 100, after });
        const page = answer.operatorAnnouncements;
        const found = page.nodes.find((a) => a.id === id);
        if (found || !page.pageInfo.hasNextPage) return setState({ announcement: found ?? null });
        after = page.pageInfo.endCursor;
      }
    } catch (error) {
      setState({ error });
    }
  }, [id]);
  useEffect(() => void load(), [load]);
  return { ...state, reload: load };
}

const TITLE_MAX = 200;
const BODY_MAX = 20_000;

function Editor({ existing, packages }: { existing: Announcement | undefined; packages: TargetPackage[] }) {
  const navigate = useNavigate();
  const [title, setTitle] = useState(existing?.title ?? '');
  const [body, setBody] = useState(existing?.body ?? '');
  const [target, setTarget] = useState<'ALL' | 'PACKAGES'>(existing?.packages.length ? 'PACKAGES' : 'ALL');
  const [packageIds, setPackageIds] = useState<string[]>(existing?.packages.map((p) => p.id) ?? []);
  const [publishAt, setPublishAt] = useState(existing?.status === 'SCHEDULED' && existing.publishedAt ? toLocalInput(existing.publishedAt) : '');
  // Once a new announcement is saved (a draft whose publishing then failed, say), later saves change it rather than write another.
  const [savedId, setSavedId] = useState(existing?.id);
  const preview = useDeferredValue(body);
  const create = useMutation(CREATE_ANNOUNCEMENT);
  const update = useMutation(UPDATE_ANNOUNCEMENT);
  const publish = useMutation(PUBLISH_ANNOUNCEMENT);
  const [problem, setProblem] = useState<string>();
  const busy = create.loading || update.loading || publish.loading;

  const fields = () => ({ title: title.trim(), body, packageIds: target === 'PACKAGES' ? packageIds : [] });
  const contentProblem = !title.trim() ? 'Give it a title.' : !body.trim() ? 'Write its body.' : target === 'PACKAGES' && packageIds.length === 0 ? 'Pick at least one package, or target every developer.' : undefined;

  /** Saves the text and targets with this publish time (null: a draft); the announcement as saved. */
  async function save(at: string | null): Promise<Announcement | undefined> {
    setProblem(contentProblem);
    publish.reset();
    if (contentProblem) return undefined;
    if (savedId) return (await update.run({ input: { id: savedId, ...fields(), publishAt: at } }))?.updateAnnouncement;
    const created = (await create.run({ input: { ...fields(), ...(at ? { publishAt: at } : {}) } }))?.createAnnouncement;
    if (created) setSavedId(created.id);
    return created;
  }

  return (
    <form
      aria-label={existing ? `Edit ${existing.title}` : 'New announcement'}
      onSubmit={async (event) => {
        event.preventDefault();
        if (await save(null)) navigate('/announcements');
      }}
    >
      <Stack>
        <TextInput label="Title" required maxLength={TITLE_MAX} value={title} onChange={(e) => setTitle(e.currentTarget.value)} />
        <SimpleGrid cols={{ base: 1, lg: 2 }}>
          <Textarea
            label="Body"
            description="Markdown: headings, lists, **bold**, `code`, [links](https://…). HTML is shown as text."
            required
            autosize
            minRows={12}
            maxRows={30}
            maxLength={BODY_MAX}
            value={body}
            onChange={(e) => setBody(e.currentTarget.value)}
          />
          <Paper withBorder radius="md" p="md" component="section" aria-labelledby="preview-title">
            <Title order={2} size="h6" id="preview-title" c="dimmed" mb="xs">
              Preview, as developers see it
            </Title>
            {title.trim() && (
              <Title order={3} size="h4" mb="xs">
                {title}
              </Title>
            )}
            {preview.trim() ? <Markdown source={preview} /> : <Text size="sm" c="dimmed">The body shows here as you write it.</Text>}
          </Paper>
        </SimpleGrid>
        <Radio.Group label="For" value={target} onChange={(value) => setTarget(value as 'ALL' | 'PACKAGES')}>
          <Group mt={4}>
            <Radio value="ALL" label="Every developer" />
            <Radio value="PACKAGES" label="Developers whose apps hold a package" />
          </Group>
        </Radio.Group>
        {target === 'PACKAGES' && (
          <MultiSelect
            label="Packages"
            description="Developers with an app holding any of these see it."
            data={packages.map((p) => ({ value: p.id, label: p.name }))}
            value={packageIds}
            onChange={setPackageIds}
            searchable
            maw={560}
            nothingFoundMessage="No package matches"
          />
        )}
        {existing?.status === 'SCHEDULED' && (
          <Alert variant="light" color="blue">
            Scheduled: saving it as a draft takes it off the schedule.
          </Alert>
        )}
        <TextInput type="datetime-local" label="Publish at" description="For Schedule: a time ahead, your local time." value={publishAt} onChange={(e) => setPublishAt(e.currentTarget.value)} maw={280} />
        {problem && (
          <Text size="sm" c="red.8" role="alert">
            {problem}
          </Text>
        )}
        <ErrorAlert error={create.error ?? update.error ?? publish.error} title="Not saved" />
        <Group>
          <Button
            variant="default"
            loading={busy}
            onClick={async () => {
              const at = fromLocalInput(publishAt);
              if (!at || Date.parse(at) <= Date.now()) return setProblem('For Schedule, pick a publish time ahead.');
              if (await save(at)) navigate('/announcements');
            }}
          >
            Schedule
          </Button>
          <Button
            loading={busy}
            onClick={async () => {
              // Saved first (a draft), then published: publishAnnouncement is the one operation that publishes now.
              const saved = await save(null);
              if (!saved) return;
              // Refused (the error shows here): the announcement stays saved as a draft.
              if (await publish.run({ input: { id: saved.id } })) navigate('/announcements');
            }}
          >
            Publish now
          </Button>
          <Button type="submit" variant="subtle" loading={busy}>
            Save draft
          </Button>
          <Button component={Link} to="/announcements" variant="subtle" color="gray">
            Cancel
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

export default function AnnouncementEditorPage() {
  const { announcementId } = useParams();
  const found = useAnnouncement(announcementId);
  const packages = useOperation(ANNOUNCEMENT_PACKAGES);
  const existing = found.announcement ?? undefined;
  const heading = announcementId ? `Edit ${existing?.title ?? 'announcement'}` : 'New announcement';

  let content;
  if (found.error || packages.error) content = <ErrorAlert error={found.error ?? packages.error} onRetry={() => void (found.error ? found.reload() : packages.refetch())} />;
  else if ((announcementId && found.announcement === undefined) || !packages.data) content = <PageLoader label="Loading the announcement" />;
  else if (announcementId && !existing) content = <EmptyState title="Announcement not found" action={<Button component={Link} to="/announcements" variant="light">All announcements</Button>}>No announcement has this id.</EmptyState>;
  else if (existing && existing.status !== 'DRAFT' && existing.status !== 'SCHEDULED')
    content = (
      <EmptyState title={`This announcement is ${existing.status.toLowerCase()}`} action={<Button component={Link} to="/announcements" variant="light">All announcements</Button>}>
        A published announcement cannot change; withdraw it and write a new one.
      </EmptyState>
    );
  else content = <Editor key={existing?.id ?? 'new'} existing={existing} packages={packages.data.permissionPackages} />;

  return (
    <>
      <PageHeader title={heading} />
      {content}
    </>
  );
}
