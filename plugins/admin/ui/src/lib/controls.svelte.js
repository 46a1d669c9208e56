// Whether the dashboard hides what changes collections (the Application setting
// meta.hideControls): read once, kept up to date by the Application settings page.
import { features } from "./features.svelte.js";
import { pb } from "./pb.js";

// hidden: null until known, so the controls do not show for a moment before they go.
export const controls = $state({ hidden: null });
let asked = false;

/** Reads the setting once the loaded plugins are known (call it from an effect); without the
 * `settings` plugin there is no setting and nothing is hidden. */
export function loadControls() {
  if (asked || !features.plugins.length) return;
  asked = true;
  if (!features.plugins.includes("settings")) {
    controls.hidden = false;
    return;
  }
  pb.settings.getAll({ requestKey: null })
    .then((settings) => (controls.hidden = !!settings.meta?.hideControls), () => (controls.hidden = false));
}
