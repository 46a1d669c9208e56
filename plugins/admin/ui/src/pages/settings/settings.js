// Reading and saving the settings document for the settings pages.
import { pb } from "../../lib/pb.js";
import { apiError, toast } from "../../lib/toasts.svelte.js";

export async function loadSettings() {
  try {
    return await pb.settings.getAll();
  } catch (error) {
    apiError(error);
    return null;
  }
}

/** Saves ``changes``; returns the field errors ({} when saved). */
export async function saveSettings(changes) {
  try {
    await pb.settings.update(changes);
    toast("Settings saved.");
    return {};
  } catch (error) {
    return apiError(error);
  }
}
