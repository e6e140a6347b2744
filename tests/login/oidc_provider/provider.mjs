// OIDC provider for the login tests: the OpenID-certified npm package `oidc-provider`, with a
// minimal login page (username + password on the provider's page, never in the chat) and test
// citizens at levels 1, 3 and 4. The `acr` of the login is the citizen's real level, whatever
// was requested: the relying party must refuse a level that is too low.
//
//   PORT=… CLIENT_ID=… CLIENT_SECRET=… REDIRECT_URI=… node provider.mjs
// prints "ready <issuer>" on stdout when it listens on 127.0.0.1.
import http from 'node:http';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;

const erika = {
  given_name: 'Erika', family_name: 'Mustermann', birthdate: '1964-08-12', email: 'erika.mustermann@example.org',
  address: { street_address: 'Heidestraße 17', postal_code: '51147', locality: 'Köln', country: 'DE' },
};
const accounts = {
  erika3: { password: 'geheim-3', acr: 'STORK-QAA-Level-3', claims: erika },
  erika4: { password: 'geheim-4', acr: 'STORK-QAA-Level-4', claims: erika },
  max1: {
    password: 'geheim-1', acr: 'STORK-QAA-Level-1',
    claims: {
      given_name: 'Max', family_name: 'Musterberg', birthdate: '1990-01-31', email: 'max@example.org',
      address: { street_address: 'Marienplatz 8', postal_code: '80331', locality: 'München', country: 'DE' },
    },
  },
};

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.CLIENT_ID,
    client_secret: process.env.CLIENT_SECRET,
    redirect_uris: [process.env.REDIRECT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  pkce: { required: () => true },
  scopes: ['openid', 'profile', 'email', 'address', 'level1', 'level3', 'level4'],
  claims: {
    acr: null, auth_time: null, sid: null,
    openid: ['sub'],
    profile: ['given_name', 'family_name', 'birthdate'],
    email: ['email'],
    address: ['address'],
  },
  acrValues: ['STORK-QAA-Level-1', 'STORK-QAA-Level-3', 'STORK-QAA-Level-4'],
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ['test-only-cookie-key'] },
  findAccount: async (ctx, id) => (accounts[id]
    ? { accountId: id, claims: async () => ({ sub: id, ...accounts[id].claims }) }
    : undefined),
});
provider.proxy = false;

function readForm(req) {
  return new Promise((resolve) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => resolve(new URLSearchParams(body)));
  });
}

const callback = provider.callback();
const server = http.createServer(async (req, res) => {
  const match = req.url.match(/^\/interaction\/([^/?]+)(\/login)?/);
  if (!match) return callback(req, res);
  try {
    const details = await provider.interactionDetails(req, res);
    if (req.method === 'GET') {
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      return res.end(`<html><body><h1>Test-Broker</h1><form method="post" action="/interaction/${details.uid}/login">`
        + '<input name="username"><input type="password" name="password">'
        + '<button name="action" value="login">Anmelden</button>'
        + '<button name="action" value="cancel">Abbrechen</button></form></body></html>');
    }
    const form = await readForm(req);
    if (form.get('action') === 'cancel') {
      return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'abgebrochen' });
    }
    const account = accounts[form.get('username')];
    if (!account || account.password !== form.get('password')) {
      res.statusCode = 401;
      return res.end('falsches Passwort');
    }
    const accountId = form.get('username');
    const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
    grant.addOIDCScope(details.params.scope);
    grant.addOIDCClaims(['given_name', 'family_name', 'birthdate', 'email', 'address']);
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, {
      login: { accountId, acr: account.acr },
      consent: { grantId },
    }, { mergeWithLastSubmission: false });
  } catch (err) {
    res.statusCode = 500;
    return res.end(String(err));
  }
});

server.listen(port, '127.0.0.1', () => { console.log(`ready ${issuer}`); });
process.on('SIGTERM', () => server.close(() => process.exit(0)));
