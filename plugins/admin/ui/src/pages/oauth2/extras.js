// What each provider asks beyond its client id and secret, as PocketBase's dashboard does, and
// the values a newly added one starts with.
import AppleOptions from "./AppleOptions.svelte";
import LarkOptions from "./LarkOptions.svelte";
import MicrosoftOptions from "./MicrosoftOptions.svelte";
import OidcOptions from "./OidcOptions.svelte";
import SelfHostedOptions from "./SelfHostedOptions.svelte";

// extra null: the user info mode, as a new one starts in PocketBase (see OidcOptions)
const oidc = { component: OidcOptions, defaults: { displayName: "OIDC", pkce: true, extra: null } };

export const EXTRAS = {
  apple: { component: AppleOptions },
  gitea: { component: SelfHostedOptions },
  gitlab: { component: SelfHostedOptions },
  lark: { component: LarkOptions },
  mailcow: { component: SelfHostedOptions, props: { needed: true } },
  microsoft: { component: MicrosoftOptions },
  oidc, oidc2: oidc, oidc3: oidc,
};

/** A provider entry as the collection stores it; the server keeps defaults for what is empty. */
export function newProvider(name) {
  return { name, clientId: "", authURL: "", tokenURL: "", userInfoURL: "", displayName: "", pkce: null,
    extra: {}, ...EXTRAS[name]?.defaults };
}
