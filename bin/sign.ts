/**
 * `npm run sign -- --query '{ viewerApp { key } }'`: sends one signed GraphQL request (RFC 9421, as
 * the gateway's verify-signature stage checks it) and prints the answer. See HELP below.
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { parseArgs } from 'node:util';
import { loadConfig } from '../core/config.js';
import { signRequest, type SigningKey } from '../core/request-signer.js';

const HELP = `usage: npm run sign -- --query DOCUMENT [options]

Sends a POST to the GraphQL API signed with HTTP Message Signatures (RFC 9421): a content-digest
(RFC 9530 sha-256) of the body, and a signature over @method, @target-uri and content-digest with
created (now), a random nonce, keyid (the app key) and alg. Prints the HTTP status on stderr and
the answer's JSON on stdout. Without --url, --key, --secret and --token it takes the demo's
(DATA_DIR/demo.json, written by npm start).

  --query DOCUMENT       the GraphQL document (required)
  --variables JSON       its variables, a JSON object
  --operation NAME       the operation to run, when the document has several
  --url URL              the API's public URL, exactly as PUBLIC_URL names it (it is the signed @target-uri)
  --key APP_KEY          the app key (keyid)
  --secret SECRET        sign with hmac-sha256 keyed by the app secret (or set PORTICO_APP_SECRET)
  --ed25519-key FILE     sign with ed25519 instead, with this PEM private key; its public key must be
                         registered first (mutation registerSigningKey)
  --token TOKEN          the access token (or set PORTICO_TOKEN); sent as Authorization: Bearer
  --help                 this text

Example, with the demo running (npm start):
  npm run sign -- --query '{ viewerApp { key signatureRequired } }'
`;

const { values } = parseArgs({
  options: {
    query: { type: 'string' },
    variables: { type: 'string' },
    operation: { type: 'string' },
    url: { type: 'string' },
    key: { type: 'string' },
    secret: { type: 'string' },
    'ed25519-key': { type: 'string' },
    token: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

const fail = (message: string): never => {
  console.error(`${message}\n\n${HELP}`);
  process.exit(2);
};

if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
if (!values.query) fail('--query is required');

/** The demo's settings, when npm start wrote them. */
function demoSettings(): { graphqlUrl?: string; appKey?: string; appSecret?: string | null; accessToken?: string } {
  const file = path.join(loadConfig().dataDir, 'demo.json');
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as ReturnType<typeof demoSettings>) : {};
}
const demo = demoSettings();

let variables: Record<string, unknown> | undefined;
if (values.variables) {
  try {
    variables = JSON.parse(values.variables) as Record<string, unknown>;
  } catch {
    fail('--variables must be a JSON object');
  }
}
const url = values.url ?? demo.graphqlUrl ?? fail('--url is required (no demo.json found)');
const keyid = values.key ?? demo.appKey ?? fail('--key is required (no demo.json found)');
const token = values.token ?? process.env.PORTICO_TOKEN ?? demo.accessToken ?? fail('--token is required (no demo.json found)');
let key: SigningKey;
if (values['ed25519-key']) {
  key = { alg: 'ed25519', privateKey: crypto.createPrivateKey(fs.readFileSync(values['ed25519-key'])) };
} else {
  const secret = values.secret ?? process.env.PORTICO_APP_SECRET ?? demo.appSecret ?? fail('--secret or --ed25519-key is required (no demo.json found)');
  key = { alg: 'hmac-sha256', secret };
}

const body = JSON.stringify({ query: values.query, ...(variables ? { variables } : {}), ...(values.operation ? { operationName: values.operation } : {}) });
const signature = await signRequest({ method: 'POST', url, body, keyid, key });
const response = await fetch(url, {
  method: 'POST',
  headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', authorization: `Bearer ${token}`, ...signature },
  body,
});
console.error(`HTTP ${response.status}`);
const text = await response.text();
try {
  process.stdout.write(`${JSON.stringify(JSON.parse(text), null, 2)}\n`);
} catch {
  process.stdout.write(`${text}\n`);
}
process.exitCode = response.ok ? 0 : 1;
