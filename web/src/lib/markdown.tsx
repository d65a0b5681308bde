/**
 * Announcements' Markdown as React elements, one renderer for the portal and the console (and the
 * console's live preview): react-markdown builds elements, never HTML strings, and HTML written in
 * the Markdown stays text (no rehype-raw, by design), so nothing in an announcement can run script or
 * restyle a page. Links may go to http(s) addresses and the platform's own paths only; images are
 * left out (the pages' CSP would block other hosts' anyway) and show their description instead.
 */
import { Anchor, Blockquote, Code, List, Table, Text, Title } from '@mantine/core';
import ReactMarkdown, { type Components } from 'react-markdown';
import { safeMarkdownUrl } from './markdown-links';

interface HastNode {
  type: string;
  value?: string;
  children?: HastNode[];
}

const textOf = (node: HastNode | undefined): string => (node ? (node.type === 'text' ? (node.value ?? '') : (node.children ?? []).map(textOf).join('')) : '');

const components: Components = {
  h1: ({ children }) => <Title order={3} size="h4" mt="sm" mb="xs">{children}</Title>,
  h2: ({ children }) => <Title order={4} size="h5" mt="sm" mb="xs">{children}</Title>,
  h3: ({ children }) => <Title order={5} size="h6" mt="xs" mb="xs">{children}</Title>,
  h4: ({ children }) => <Title order={6} mt="xs" mb="xs">{children}</Title>,
  h5: ({ children }) => <Title order={6} mt="xs" mb="xs">{children}</Title>,
  h6: ({ children }) => <Title order={6} mt="xs" mb="xs">{children}</Title>,
  p: ({ children }) => <Text size="sm" mb="xs">{children}</Text>,
  ul: ({ children }) => <List size="sm" mb="xs">{children}</List>,
  ol: ({ children }) => <List type="ordered" size="sm" mb="xs">{children}</List>,
  li: ({ children }) => <List.Item>{children}</List.Item>,
  blockquote: ({ children }) => <Blockquote p="xs" mb="xs">{children}</Blockquote>,
  code: ({ children }) => <Code>{children}</Code>,
  // A fenced block, with or without a language: its text in one block (its <code> child is not rendered as inline code).
  pre: ({ node }) => (
    <Code block mb="xs">
      {textOf(node)}
    </Code>
  ),
  table: ({ children }) => <Table withTableBorder fz="sm" mb="xs">{children}</Table>,
  a: ({ href, children }) =>
    href ? (
      <Anchor href={href} target={href.startsWith('/') || href.startsWith('#') ? undefined : '_blank'} rel="noopener noreferrer">
        {children}
      </Anchor>
    ) : (
      <>{children}</>
    ),
  img: ({ alt }) => (alt ? <>{alt}</> : null),
};

export function Markdown({ source }: { source: string }) {
  return (
    <ReactMarkdown components={components} urlTransform={safeMarkdownUrl}>
      {source}
    </ReactMarkdown>
  );
}
