// A real OpenID Connect provider for the tests: the certified `oidc-provider` package on loopback.
//
// Clients come from IDP_CLIENTS (JSON). Logins need no form: an interaction signs in the account
// the test chose last with POST /test/account {id, claims} and grants what the client asked.
// A request without the `openid` scope (a named provider such as Google asks for its own scopes)
// gets "openid email profile" instead, so a named provider's URLs can point here.
import http from "node:http";
import Provider from "oidc-provider";

const port = Number(process.env.IDP_PORT);
const issuer = `http://127.0.0.1:${port}`;
const accounts = new Map();
let currentAccount = "";

const provider = new Provider(issuer, {
  clients: JSON.parse(process.env.IDP_CLIENTS),
  pkce: { required: (ctx, client) => client.clientId !== "no-pkce" },
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, ...(accounts.get(id) || {}) }),
  }),
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["name", "preferred_username", "picture"],
  },
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ["pbk-oauth2-tests"] },
});
provider.on("server_error", (ctx, error) => console.error("idp server_error", error));

async function finishInteraction(req, res) {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name === "login") {
    await provider.interactionFinished(req, res, { login: { accountId: currentAccount } },
      { mergeWithLastSubmission: false });
    return;
  }
  const grant = new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
  grant.addOIDCScope(details.params.scope);
  for (const claim of ["email", "email_verified", "name", "preferred_username", "picture"]) {
    grant.addOIDCClaims([claim]);
  }
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString() || "{}");
}

const callback = provider.callback();
http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, issuer);
    if (req.method === "POST" && url.pathname === "/test/account") {
      const { id, claims } = await readJson(req);
      accounts.set(id, claims);
      currentAccount = id;
      res.writeHead(204).end();
      return;
    }
    if (url.pathname.startsWith("/interaction/")) {
      await finishInteraction(req, res);
      return;
    }
    if (url.pathname === "/auth" && !(url.searchParams.get("scope") || "").split(" ").includes("openid")) {
      url.searchParams.set("scope", "openid email profile");
      req.url = url.pathname + url.search;
    }
    callback(req, res);
  } catch (error) {
    console.error("idp harness error", error);
    res.writeHead(500).end(String(error));
  }
}).listen(port, "127.0.0.1", () => console.log("ready"));
