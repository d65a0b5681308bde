/**
 * The small part of Markdown operators' announcements use (paragraphs, headings, lists, **bold**,
 * *emphasis*, `code`, [links](https://…)), rendered as React elements: no HTML from the text ever
 * reaches the page, so nothing in an announcement can run or restyle it.
 */
import { Anchor, Code, List, Text, Title } from '@mantine/core';
import type { ReactNode } from 'react';

const INLINE = /(\*\*[^*]+\*\*|\*[^*]+\*|`[^`]+`|\[[^\]]+\]\([^)\s]+\))/g;

function inline(text: string): ReactNode[] {
  return text.split(INLINE).map((part, i) => {
    if (part.startsWith('**') && part.endsWith('**') && part.length > 4) return <strong key={i}>{part.slice(2, -2)}</strong>;
    if (part.startsWith('`') && part.endsWith('`') && part.length > 2) return <Code key={i}>{part.slice(1, -1)}</Code>;
    const link = /^\[([^\]]+)\]\(([^)\s]+)\)$/.exec(part);
    if (link) {
      const href = link[2]!;
      // Only web links and the platform's own paths: never javascript: or data: URLs.
      return /^(https?:\/\/|\/)/.test(href) ? (
        <Anchor key={i} href={href} target={href.startsWith('/') ? undefined : '_blank'} rel="noopener noreferrer">
          {link[1]}
        </Anchor>
      ) : (
        link[1]
      );
    }
    if (part.startsWith('*') && part.endsWith('*') && part.length > 2) return <em key={i}>{part.slice(1, -1)}</em>;
    return part;
  });
}

export function Markdown({ source }: { source: string }) {
  const blocks = source.replace(/\r\n/g, '\n').split(/\n{2,}/);
  return (
    <>
      {blocks.map((block, i) => {
        const lines = block.split('\n').filter((line) => line.trim());
        if (!lines.length) return null;
        const heading = /^(#{1,4})\s+(.*)$/.exec(lines[0]!);
        if (heading && lines.length === 1)
          return (
            <Title key={i} order={3} size="h5" mt="xs">
              {inline(heading[2]!)}
            </Title>
          );
        if (lines.every((line) => /^\s*[-*]\s+/.test(line)))
          return (
            <List key={i} size="sm" mb="xs">
              {lines.map((line, j) => (
                <List.Item key={j}>{inline(line.replace(/^\s*[-*]\s+/, ''))}</List.Item>
              ))}
            </List>
          );
        return (
          <Text key={i} size="sm" mb="xs">
            {inline(lines.join(' '))}
          </Text>
        );
      })}
    </>
  );
}
