import fs from 'node:fs';
import { parse } from 'graphql';
import { SUPERGRAPH_FILE, composeSupergraph } from '../core/composition.js';
import { SUBGRAPH_NAMES } from '../core/config.js';

describe('the supergraph contract', () => {
  const outcome = composeSupergraph();

  test('the four subgraph SDLs compose without errors', () => {
    expect(outcome.errors).toEqual([]);
  });

  test('composition reports no hint that was not accepted on purpose', () => {
    expect(outcome.unacceptedHints).toEqual([]);
  });

  test('the checked-in schema/supergraph.graphql is what the SDLs compose to (run npm run compose)', () => {
    const checkedIn = fs.readFileSync(SUPERGRAPH_FILE, 'utf8').trimEnd();
    expect(checkedIn).toEqual(outcome.supergraphSdl!.trimEnd());
  });

  test('every subgraph links Federation 2', () => {
    for (const name of SUBGRAPH_NAMES) {
      const sdl = fs.readFileSync(new URL(`../schema/${name}.graphql`, import.meta.url), 'utf8');
      expect(sdl).toMatch(/@link\(url: "https:\/\/specs\.apollo\.dev\/federation\/v2\.\d+"/);
      expect(() => parse(sdl)).not.toThrow();
    }
  });
});
