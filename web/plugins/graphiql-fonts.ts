/**
 * GraphiQL's stylesheet embeds its fonts (Roboto and Fira Code, every script's subset) as data URLs:
 * 270 kB of the explorer's download after compression. The portal sets GraphiQL's font variables to
 * the system fonts it uses everywhere (web/src/pages/explorer/explorer.css), so the embedded faces
 * are dropped from that one stylesheet when it is bundled.
 */
import type { Plugin } from 'vite';

const GRAPHIQL_STYLESHEET = /[\\/]node_modules[\\/]graphiql[\\/]dist[\\/]style\.css$/;
/** One @font-face rule: its body holds declarations and base64 data, never a brace. */
const FONT_FACE = /@font-face\s*\{[^}]*\}/g;

export function withoutGraphiQLFonts(): Plugin {
  return {
    name: 'portico-graphiql-without-fonts',
    enforce: 'pre',
    transform(code, id) {
      if (!GRAPHIQL_STYLESHEET.test(id.split('?')[0]!)) return undefined;
      return { code: code.replace(FONT_FACE, ''), map: null };
    },
  };
}
