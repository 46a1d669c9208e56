// The installed OAuth2 providers (GET /api/collections/meta/oauth2-providers, superusers
// only), loaded once per page load, and how each one is shown.
import { pb } from "../../lib/pb.js";
import { apiError } from "../../lib/toasts.svelte.js";

export const catalogue = $state({ providers: [], loaded: false });
let loading = null;

export function loadCatalogue() {
  loading ??= pb.send("/api/collections/meta/oauth2-providers", { method: "GET" }).then(
    (found) => {
      catalogue.providers = found;
      catalogue.loaded = true;
    },
    (error) => {
      loading = null; // asked again the next time the options open
      apiError(error);
    },
  );
  return loading;
}

export function findProvider(name) {
  return catalogue.providers.find((item) => item.name === name);
}

/** The provider's SVG logo as an image address (the page allows data: images). */
export function logoURL(info) {
  return info?.logo ? "data:image/svg+xml;charset=utf-8," + encodeURIComponent(info.logo) : "";
}

/** What a configured provider is called: its own display name, else the catalogue's. */
export function title(config) {
  return config.displayName || findProvider(config.name)?.displayName || config.name;
}
